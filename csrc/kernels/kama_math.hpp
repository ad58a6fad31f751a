// The per-bar arithmetic of KAMA (SPEC §1), shared by every kernel and the stream so that the
// formula lives in one place. Kept free of FMA contraction (-ffp-contract=off) so that the
// stream and the scalar kernel round identically. Internal linkage: avx2.cpp and avx512.cpp
// include it under their target pragmas too, and each file must keep its own copy.
#pragma once
#include <cmath>
#include <cstddef>

#include "kernels.hpp"

namespace kama {
namespace {

// The rule for the efficiency ratio that a mode's kernels are compiled with: tulipy's is TA-Lib's.
constexpr compat_t er_rule(compat_t c) noexcept { return c == compat_t::tulipy ? compat_t::talib : c; }

// pandas-ta's efficiency ratio on a flat window: its epsilon-padded moves make it 1 / period.
inline double flat_efficiency(std::size_t period) noexcept { return 1.0 / static_cast<double>(period); }

// Efficiency ratio from the signed p-step change R and the volatility S (sum of |moves|), by
// the rule C (er_rule of the mode); `period` matters to pandas_ta's only.
template <compat_t C>
inline double efficiency(double change, double volatility, std::size_t period) noexcept {
    if constexpr (C == compat_t::vectorta) {
        return volatility == 0.0 ? 0.0 : std::fabs(change) / volatility;
    } else if constexpr (C == compat_t::pandas_ta) {
        return volatility == 0.0 ? flat_efficiency(period) : std::fabs(change) / volatility;
    } else {
        static_assert(C == compat_t::talib, "tulipy compiles as er_rule(tulipy) == talib");
        // TA-Lib C 0.8: ER = 1 on a rising-only or exactly flat window (S <= R, R signed). No
        // absolute epsilon: TA-Lib dropped its 1e-8 test, which broke series priced near 1e-8.
        return volatility <= change ? 1.0 : std::fabs(change / volatility);
    }
}

// Smoothing constant c = (ER * (fsc - ssc) + ssc)^2.
inline double smoothing(double er, double diff, double ssc) noexcept {
    double sc = er * diff + ssc;
    return sc * sc;
}

// y_i = y_{i-1} + c (x_i - y_{i-1}). Not (1 - c) y + c x, which is one operation shorter on
// the dependency chain but rounds 1 - c: for a small c (a large slow period) that biases every
// step the same way, and the error grows past SPEC §2's bound.
inline double advance(double y, double c, double x) noexcept { return y + c * (x - y); }

}  // namespace
}  // namespace kama
