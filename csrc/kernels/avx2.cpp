// AVX2 + FMA kernel: 4 lanes of double. The algorithm is simd_kama.hpp's. Built on x86-64
// only; elsewhere its entry says so.
#include <cstdint>

#include "cpu.hpp"
#include "kernels.hpp"

#if defined(KAMA_X86)
#include <immintrin.h>

// Everything from here to the pop is compiled for AVX2 + FMA (GCC's pragma, Clang's attribute
// on every function the region defines, lambdas included); what is above stays baseline.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

#include "simd_kama.hpp"
#include "simd_rows.hpp"
#include "simd_sweep.hpp"

namespace kama {
namespace {

struct vec_avx2 {
    using reg = __m256d;
    static constexpr std::size_t L = 4;
    static reg load(const double* p) { return _mm256_loadu_pd(p); }
    static void store(double* p, reg v) { _mm256_storeu_pd(p, v); }
    static void stream(double* p, reg v) { _mm256_stream_pd(p, v); }  // p 32-byte aligned
    static reg set1(double v) { return _mm256_set1_pd(v); }
    static reg zero() { return _mm256_setzero_pd(); }
    static reg add(reg a, reg b) { return _mm256_add_pd(a, b); }
    static reg sub(reg a, reg b) { return _mm256_sub_pd(a, b); }
    static reg mul(reg a, reg b) { return _mm256_mul_pd(a, b); }
    static void fence() { _mm_sfence(); }  // after stream(): its stores are seen before ours
    // Back to baseline code: no dirty upper state left behind (see simd_kama.hpp's run_range).
    static void leave() { _mm256_zeroupper(); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
    static reg abs(reg v) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), v); }

    template <compat_t C>
    static reg efficiency(reg change, reg volatility, reg flat_er) {
        if constexpr (C == compat_t::vectorta) {  // S == 0 -> 0, else |R| / S
            const reg flat = _mm256_cmp_pd(volatility, zero(), _CMP_EQ_OQ);
            return _mm256_blendv_pd(_mm256_div_pd(abs(change), volatility), zero(), flat);
        } else if constexpr (C == compat_t::pandas_ta) {  // S == 0 -> 1 / p, else |R| / S
            const reg flat = _mm256_cmp_pd(volatility, zero(), _CMP_EQ_OQ);
            return _mm256_blendv_pd(_mm256_div_pd(abs(change), volatility), flat_er, flat);
        } else {  // S <= R -> 1, else |R / S|
            const reg one_if = _mm256_cmp_pd(volatility, change, _CMP_LE_OQ);
            return _mm256_blendv_pd(abs(_mm256_div_pd(change, volatility)), set1(1.0), one_if);
        }
    }
    using mask = __m256d;  // all ones in a lane that is set
    static mask ge(reg a, reg b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
    static mask eq(reg a, reg b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
    static reg select(mask m, reg if_set, reg if_clear) { return _mm256_blendv_pd(if_clear, if_set, m); }
    using ireg = __m256i;
    static ireg iload(const std::int64_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
    static ireg iset1(std::int64_t v) { return _mm256_set1_epi64x(v); }
    static ireg iadd(ireg a, ireg b) { return _mm256_add_epi64(a, b); }
    static reg gather_masked(const double* base, ireg index, mask m) {  // base[index] in lanes of m, else 0
        return _mm256_mask_i64gather_pd(zero(), base, index, m, 8);
    }
    static ireg isub(ireg a, ireg b) { return _mm256_sub_epi64(a, b); }
    static ireg iand(ireg a, ireg b) { return _mm256_and_si256(a, b); }
    static mask ieq(ireg a, ireg b) { return _mm256_castsi256_pd(_mm256_cmpeq_epi64(a, b)); }
    static mask igt(ireg a, ireg b) { return _mm256_castsi256_pd(_mm256_cmpgt_epi64(a, b)); }
    static ireg iselect(mask m, ireg if_set, ireg if_clear) {
        return _mm256_castpd_si256(_mm256_blendv_pd(_mm256_castsi256_pd(if_clear), _mm256_castsi256_pd(if_set), m));
    }
    static reg gather(const double* base, ireg index) { return _mm256_i64gather_pd(base, index, 8); }
    static reg load_reversed(const double* p) {  // {p[3], p[2], p[1], p[0]}
        return _mm256_permute4x64_pd(_mm256_loadu_pd(p), 0x1B);
    }
    static reg first_lane_set(reg v, double s) { return _mm256_blend_pd(v, set1(s), 0x1); }
    static reg fnmadd(reg a, reg b, reg c) { return _mm256_fnmadd_pd(a, b, c); }
    static bool all_le(reg v, reg bound) {  // false for NaN lanes
        return _mm256_movemask_pd(_mm256_cmp_pd(v, bound, _CMP_LE_OQ)) == 0xF;
    }

    static void transpose(reg r[4]) {
        const reg t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
        const reg t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
        r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
        r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
        r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
        r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
    }
};

status_t kama_f64_avx2(const double* x, std::size_t n, std::size_t first, const params_t& prm,
                       double* y) {
    const status_t st = run_simd_mode<vec_avx2>(x, n, first, prm, y);
    vec_avx2::leave();  // back to baseline code
    return st;
}

status_t kama_rows_f64_avx2(const double* const* xs, double* const* ys, std::size_t lane_lo, std::size_t n,
                       std::size_t first, const params_t& prm) {
    const status_t st = run_rows_mode<vec_avx2>(xs, ys, lane_lo, n, first, prm);
    vec_avx2::leave();
    return st;
}

status_t kama_sweep_f64_avx2(const double* x, std::size_t n, std::size_t first, const std::size_t* periods,
                        double* const* ys, std::size_t lane_lo, const params_t& prm) {
    const status_t st = run_sweep_mode<vec_avx2>(x, n, first, periods, ys, lane_lo, prm);
    vec_avx2::leave();
    return st;
}

}  // namespace
}  // namespace kama

#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif

// Baseline code again: what the dispatcher calls before it runs the kernel.
namespace kama {
namespace {
const char* avx2_missing() noexcept {
    static const missing_t missing = [] {
        missing_t m;
        const x86_features_t& f = x86_features();
        m.need(f.avx2, "AVX2");
        m.need(f.fma, "FMA");
        m.need(f.os_avx, "OS support for AVX state (XGETBV)");
        return m;
    }();
    return missing.result();
}
}  // namespace

extern const kernel_entry kernel_avx2 = {"avx2", kama_f64_avx2, kama_rows_f64_avx2, kama_sweep_f64_avx2, 4, avx2_missing};
}  // namespace kama

#else  // not x86-64

namespace kama {
namespace {
const char* avx2_missing() noexcept { return "it is for x86-64 and this build is for " KAMA_ARCH_NAME; }
}  // namespace

extern const kernel_entry kernel_avx2 = {"avx2", nullptr, nullptr, nullptr, 4, avx2_missing};
}  // namespace kama

#endif
