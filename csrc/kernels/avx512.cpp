// AVX-512F kernel: 8 lanes of double. The algorithm is simd_kama.hpp's. Built on x86-64
// only; elsewhere its entry says so.
#include <cstdint>

#include "cpu.hpp"
#include "kernels.hpp"

#if defined(KAMA_X86)
#include <immintrin.h>

// Everything from here to the pop is compiled for AVX-512F (GCC's pragma, Clang's attribute on
// every function the region defines, lambdas included); what is above stays baseline.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
// GCC 12 reports its own _mm512_undefined_pd() inside avx512fintrin.h as maybe-uninitialized
// (or uninitialized, depending on what gets inlined around it).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include "simd_kama.hpp"
#include "simd_rows.hpp"
#include "simd_sweep.hpp"

namespace kama {
namespace {

struct vec_avx512 {
    using reg = __m512d;
    static constexpr std::size_t L = 8;
    static reg load(const double* p) { return _mm512_loadu_pd(p); }
    static void store(double* p, reg v) { _mm512_storeu_pd(p, v); }
    static void stream(double* p, reg v) { _mm512_stream_pd(p, v); }  // p 64-byte aligned
    static reg set1(double v) { return _mm512_set1_pd(v); }
    static reg zero() { return _mm512_setzero_pd(); }
    static reg add(reg a, reg b) { return _mm512_add_pd(a, b); }
    static reg sub(reg a, reg b) { return _mm512_sub_pd(a, b); }
    static reg mul(reg a, reg b) { return _mm512_mul_pd(a, b); }
    static void fence() { _mm_sfence(); }  // after stream(): its stores are seen before ours
    // Back to baseline code: no dirty upper state left behind (see simd_kama.hpp's run_range).
    static void leave() { _mm256_zeroupper(); }
    static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
    static reg abs(reg v) { return _mm512_abs_pd(v); }

    template <compat_t C>
    static reg efficiency(reg change, reg volatility, reg flat_er) {
        if constexpr (C == compat_t::vectorta) {  // S == 0 -> 0, else |R| / S (NaN S divides)
            const __mmask8 divide = _mm512_cmp_pd_mask(volatility, zero(), _CMP_NEQ_UQ);
            return _mm512_maskz_div_pd(divide, abs(change), volatility);
        } else if constexpr (C == compat_t::pandas_ta) {  // S == 0 -> 1 / p, else |R| / S
            const __mmask8 divide = _mm512_cmp_pd_mask(volatility, zero(), _CMP_NEQ_UQ);
            return _mm512_mask_div_pd(flat_er, divide, abs(change), volatility);
        } else {  // S <= R -> 1, else |R / S|
            const __mmask8 one_if = _mm512_cmp_pd_mask(volatility, change, _CMP_LE_OQ);
            return _mm512_mask_blend_pd(one_if, abs(_mm512_div_pd(change, volatility)), set1(1.0));
        }
    }
    using mask = __mmask8;
    static mask ge(reg a, reg b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
    static mask eq(reg a, reg b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
    static reg select(mask m, reg if_set, reg if_clear) { return _mm512_mask_blend_pd(m, if_clear, if_set); }
    using ireg = __m512i;
    static ireg iload(const std::int64_t* p) { return _mm512_loadu_si512(p); }
    static ireg iset1(std::int64_t v) { return _mm512_set1_epi64(v); }
    static ireg iadd(ireg a, ireg b) { return _mm512_add_epi64(a, b); }
    static reg gather_masked(const double* base, ireg index, mask m) {  // base[index] in lanes of m, else 0
        return _mm512_mask_i64gather_pd(zero(), m, index, base, 8);
    }
    static ireg isub(ireg a, ireg b) { return _mm512_sub_epi64(a, b); }
    static ireg iand(ireg a, ireg b) { return _mm512_and_si512(a, b); }
    static mask ieq(ireg a, ireg b) { return _mm512_cmpeq_epi64_mask(a, b); }
    static mask igt(ireg a, ireg b) { return _mm512_cmpgt_epi64_mask(a, b); }
    static ireg iselect(mask m, ireg if_set, ireg if_clear) { return _mm512_mask_blend_epi64(m, if_clear, if_set); }
    static reg gather(const double* base, ireg index) { return _mm512_i64gather_pd(index, base, 8); }
    static reg load_reversed(const double* p) {  // {p[7], ..., p[0]}
        return _mm512_permutexvar_pd(_mm512_set_epi64(0, 1, 2, 3, 4, 5, 6, 7), _mm512_loadu_pd(p));
    }
    static reg first_lane_set(reg v, double s) { return _mm512_mask_blend_pd(0x1, v, set1(s)); }
    static reg fnmadd(reg a, reg b, reg c) { return _mm512_fnmadd_pd(a, b, c); }
    static bool all_le(reg v, reg bound) {  // false for NaN lanes
        return _mm512_cmp_pd_mask(v, bound, _CMP_LE_OQ) == 0xFF;
    }

    // 8x8 transpose: pairs within 128-bit lanes, then 128-bit lanes in two rounds.
    static void transpose(reg r[8]) {
        reg t[8], u[8];
        for (int k = 0; k < 4; ++k) {
            t[2 * k] = _mm512_unpacklo_pd(r[2 * k], r[2 * k + 1]);      // rows 2k,2k+1: cols 0,2,4,6
            t[2 * k + 1] = _mm512_unpackhi_pd(r[2 * k], r[2 * k + 1]);  // cols 1,3,5,7
        }
        for (int k = 0; k < 2; ++k) {  // rows 4k..4k+3
            u[4 * k + 0] = _mm512_shuffle_f64x2(t[4 * k], t[4 * k + 2], 0x88);      // cols 0,4
            u[4 * k + 1] = _mm512_shuffle_f64x2(t[4 * k], t[4 * k + 2], 0xDD);      // cols 2,6
            u[4 * k + 2] = _mm512_shuffle_f64x2(t[4 * k + 1], t[4 * k + 3], 0x88);  // cols 1,5
            u[4 * k + 3] = _mm512_shuffle_f64x2(t[4 * k + 1], t[4 * k + 3], 0xDD);  // cols 3,7
        }
        r[0] = _mm512_shuffle_f64x2(u[0], u[4], 0x88);
        r[4] = _mm512_shuffle_f64x2(u[0], u[4], 0xDD);
        r[2] = _mm512_shuffle_f64x2(u[1], u[5], 0x88);
        r[6] = _mm512_shuffle_f64x2(u[1], u[5], 0xDD);
        r[1] = _mm512_shuffle_f64x2(u[2], u[6], 0x88);
        r[5] = _mm512_shuffle_f64x2(u[2], u[6], 0xDD);
        r[3] = _mm512_shuffle_f64x2(u[3], u[7], 0x88);
        r[7] = _mm512_shuffle_f64x2(u[3], u[7], 0xDD);
    }
};

status_t kama_f64_avx512(const double* x, std::size_t n, std::size_t first, const params_t& prm,
                       double* y) {
    const status_t st = run_simd_mode<vec_avx512>(x, n, first, prm, y);
    vec_avx512::leave();  // back to baseline code
    return st;
}

status_t kama_rows_f64_avx512(const double* const* xs, double* const* ys, std::size_t lane_lo, std::size_t n,
                       std::size_t first, const params_t& prm) {
    const status_t st = run_rows_mode<vec_avx512>(xs, ys, lane_lo, n, first, prm);
    vec_avx512::leave();
    return st;
}

status_t kama_sweep_f64_avx512(const double* x, std::size_t n, std::size_t first, const std::size_t* periods,
                        double* const* ys, std::size_t lane_lo, const params_t& prm) {
    const status_t st = run_sweep_mode<vec_avx512>(x, n, first, periods, ys, lane_lo, prm);
    vec_avx512::leave();
    return st;
}

}  // namespace
}  // namespace kama

#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif

// Baseline code again: what the dispatcher calls before it runs the kernel.
namespace kama {
namespace {
const char* avx512_missing() noexcept {
    static const missing_t missing = [] {
        missing_t m;
        const x86_features_t& f = x86_features();
        m.need(f.avx512f, "AVX-512F");
        m.need(f.avx2, "AVX2");  // compiled for avx512f,avx2,fma: ask for all three
        m.need(f.fma, "FMA");
        m.need(f.os_avx512, "OS support for AVX-512 state (XGETBV)");
        return m;
    }();
    return missing.result();
}
}  // namespace

extern const kernel_entry kernel_avx512 = {"avx512", kama_f64_avx512, kama_rows_f64_avx512, kama_sweep_f64_avx512, 8, avx512_missing};
}  // namespace kama

#else  // not x86-64

namespace kama {
namespace {
const char* avx512_missing() noexcept { return "it is for x86-64 and this build is for " KAMA_ARCH_NAME; }
}  // namespace

extern const kernel_entry kernel_avx512 = {"avx512", nullptr, nullptr, nullptr, 8, avx512_missing};
}  // namespace kama

#endif
