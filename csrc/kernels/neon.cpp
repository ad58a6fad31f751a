// NEON (Advanced SIMD) kernel for aarch64: 2 lanes of double. The algorithm is simd_kama.hpp's.
// NEON is part of every ARMv8-A core, so no target region is needed. Built on aarch64 only;
// elsewhere its entry says so.
#include <cstdint>

#include "cpu.hpp"
#include "kernels.hpp"

#if defined(KAMA_AARCH64)
#include <arm_neon.h>

#include "simd_kama.hpp"
#include "simd_rows.hpp"
#include "simd_sweep.hpp"

namespace kama {
namespace {

struct vec_neon {
    using reg = float64x2_t;
    static constexpr std::size_t L = 2;
    static reg load(const double* p) { return vld1q_f64(p); }
    static void store(double* p, reg v) { vst1q_f64(p, v); }
    static void stream(double* p, reg v) { vst1q_f64(p, v); }  // no non-temporal store to name
    static void fence() {}
    static void leave() {}  // no wide state to clear
    static reg set1(double v) { return vdupq_n_f64(v); }
    static reg zero() { return vdupq_n_f64(0.0); }
    static reg add(reg a, reg b) { return vaddq_f64(a, b); }
    static reg sub(reg a, reg b) { return vsubq_f64(a, b); }
    static reg mul(reg a, reg b) { return vmulq_f64(a, b); }
    static reg fmadd(reg a, reg b, reg c) { return vfmaq_f64(c, a, b); }   // a b + c, one rounding
    static reg fnmadd(reg a, reg b, reg c) { return vfmsq_f64(c, a, b); }  // c - a b, one rounding
    static reg abs(reg v) { return vabsq_f64(v); }

    using mask = uint64x2_t;  // all ones in a lane that is set
    template <compat_t C>
    static reg efficiency(reg change, reg volatility, reg flat_er) {
        if constexpr (C == compat_t::vectorta) {  // S == 0 -> 0, else |R| / S
            const mask flat = vceqq_f64(volatility, zero());
            return vbslq_f64(flat, zero(), vdivq_f64(abs(change), volatility));
        } else if constexpr (C == compat_t::pandas_ta) {  // S == 0 -> 1 / p, else |R| / S
            const mask flat = vceqq_f64(volatility, zero());
            return vbslq_f64(flat, flat_er, vdivq_f64(abs(change), volatility));
        } else {  // S <= R -> 1, else |R / S|
            const mask one_if = vcleq_f64(volatility, change);
            return vbslq_f64(one_if, set1(1.0), abs(vdivq_f64(change, volatility)));
        }
    }
    static mask ge(reg a, reg b) { return vcgeq_f64(a, b); }
    static mask eq(reg a, reg b) { return vceqq_f64(a, b); }
    static reg select(mask m, reg if_set, reg if_clear) { return vbslq_f64(m, if_set, if_clear); }
    using ireg = int64x2_t;
    static ireg iload(const std::int64_t* p) { return vld1q_s64(p); }
    static ireg iset1(std::int64_t v) { return vdupq_n_s64(v); }
    static ireg iadd(ireg a, ireg b) { return vaddq_s64(a, b); }
    static ireg isub(ireg a, ireg b) { return vsubq_s64(a, b); }
    static ireg iand(ireg a, ireg b) { return vandq_s64(a, b); }
    static mask ieq(ireg a, ireg b) { return vceqq_s64(a, b); }
    static mask igt(ireg a, ireg b) { return vcgtq_s64(a, b); }
    static ireg iselect(mask m, ireg if_set, ireg if_clear) { return vbslq_s64(m, if_set, if_clear); }
    // No gather instruction: two loads. The masked one reads nothing in a clear lane (its index
    // may point anywhere).
    static reg gather(const double* base, ireg index) {
        const reg lo = vld1q_dup_f64(base + vgetq_lane_s64(index, 0));
        return vld1q_lane_f64(base + vgetq_lane_s64(index, 1), lo, 1);
    }
    static reg gather_masked(const double* base, ireg index, mask m) {  // base[index] in lanes of m, else 0
        const double lo = vgetq_lane_u64(m, 0) ? base[vgetq_lane_s64(index, 0)] : 0.0;
        const double hi = vgetq_lane_u64(m, 1) ? base[vgetq_lane_s64(index, 1)] : 0.0;
        return vsetq_lane_f64(hi, vdupq_n_f64(lo), 1);
    }
    static reg load_reversed(const double* p) {  // {p[1], p[0]}
        const reg v = vld1q_f64(p);
        return vextq_f64(v, v, 1);
    }
    static reg first_lane_set(reg v, double s) { return vsetq_lane_f64(s, v, 0); }
    static bool all_le(reg v, reg bound) {  // false for NaN lanes
        const mask m = vcleq_f64(v, bound);
        return (vgetq_lane_u64(m, 0) & vgetq_lane_u64(m, 1)) == ~std::uint64_t(0);
    }
    static void transpose(reg r[2]) {
        const reg lo = vzip1q_f64(r[0], r[1]), hi = vzip2q_f64(r[0], r[1]);
        r[0] = lo;
        r[1] = hi;
    }
};

status_t kama_f64_neon(const double* x, std::size_t n, std::size_t first, const params_t& prm, double* y) {
    return run_simd_mode<vec_neon>(x, n, first, prm, y);
}

status_t kama_rows_f64_neon(const double* const* xs, double* const* ys, std::size_t lane_lo, std::size_t n,
                            std::size_t first, const params_t& prm) {
    return run_rows_mode<vec_neon>(xs, ys, lane_lo, n, first, prm);
}

status_t kama_sweep_f64_neon(const double* x, std::size_t n, std::size_t first, const std::size_t* periods,
                             double* const* ys, std::size_t lane_lo, const params_t& prm) {
    return run_sweep_mode<vec_neon>(x, n, first, periods, ys, lane_lo, prm);
}

const char* neon_missing() noexcept { return arm_features().asimd ? nullptr : "Advanced SIMD (NEON)"; }

}  // namespace

extern const kernel_entry kernel_neon = {"neon", kama_f64_neon, kama_rows_f64_neon, kama_sweep_f64_neon, 2,
                                         neon_missing};
}  // namespace kama

#else  // not aarch64

namespace kama {
namespace {
const char* neon_missing() noexcept { return "it is for aarch64 and this build is for " KAMA_ARCH_NAME; }
}  // namespace

extern const kernel_entry kernel_neon = {"neon", nullptr, nullptr, nullptr, 2, neon_missing};
}  // namespace kama

#endif
