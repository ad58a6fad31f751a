// The scalar kernel's loop, written once: scalar.cpp compiles it for any CPU (every
// operation rounded, as the stream does), and the SIMD kernels' files compile it under their
// target pragmas with fused multiply-adds for series too short for the lanes. Everything here
// has internal linkage, so each file keeps its own copy (see simd_kama.hpp).
//
// Volatility S_i is a sum of `period` absolute moves. A running sum (S += new - old) keeps the
// rounding error of every move it ever saw, so one outlier tick spoils S for good. Instead the
// moves are cut into blocks of `period`: the window of S_i is a suffix of one block plus a prefix
// of the next, so S_i = suffix[r] + prefix(r), both sums of values still in the window. Nothing
// is ever subtracted, and an outlier's error leaves S together with the outlier.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "kama_math.hpp"
#include "kernels.hpp"

namespace kama {
namespace {

inline void fill_nan_n(double* y, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) y[i] = __builtin_nan("");
}

// Turns raw moves blocks[0..p) into suffix sums: blocks[o] = moves o..p-1 of the block.
inline void suffix_sums(double* blocks, std::size_t p) noexcept {
    for (std::size_t o = p - 1; o-- > 0;) blocks[o] = blocks[o] + blocks[o + 1];
}

// `scratch`: 2 * period doubles, or nullptr to allocate them here. C is the mode's er_rule;
// Fused rounds y + c (x - y) and ER * (fsc - ssc) + ssc once each (fused multiply-adds: the
// SIMD kernels' short path); the scalar kernel and the stream round every operation.
template <compat_t C, bool Fused>
status_t run_scalar(const double* x, std::size_t n, std::size_t first, const params_t& prm,
                    double* y, double* scratch) noexcept {
    const std::size_t p = prm.period;
    if (copies_input(prm)) {
        fill_nan_n(y, first);
        std::memcpy(y + first, x + first, (n - first) * sizeof(double));
        return status_t::ok;
    }
    const std::size_t start = first + p;  // index of the first recurrence step
    const bool seeded = emits_seed(prm.compat);
    if (start >= n) {
        fill_nan_n(y, n);
        if (seeded && start == n) y[n - 1] = seed_value(x, first, prm);
        return status_t::ok;
    }
    // Suffix sums of the block in use and of the next one.
    double* const owned = scratch ? nullptr : static_cast<double*>(std::malloc(2 * p * sizeof(double)));
    if (!scratch && !owned) return status_t::no_memory;
    double* suffix = scratch ? scratch : owned;
    double* next = suffix + p;

    const double diff = prm.fsc - prm.ssc, ssc = prm.ssc;
    fill_nan_n(y, start);
    for (std::size_t o = 0; o < p; ++o) suffix[o] = __builtin_fabs(x[first + o + 1] - x[first + o]);
    suffix_sums(suffix, p);

    // VectorTA outputs the price itself at `start`; the other modes start the recurrence there
    // from a seed one bar earlier, which tulipy and pandas_ta also output.
    const bool vectorta = prm.compat == compat_t::vectorta;
    double yv;
    if (vectorta) {
        yv = x[start];
        y[start] = yv;
    } else {
        yv = seed_value(x, first, prm);
        if (seeded) y[start - 1] = yv;
    }
    // Output i has the window of moves i-p+1..i: the suffix of its block from offset r, plus
    // the first r moves of the next block (the running prefix). The next block's own suffix
    // sums depend only on x, so they are built during this block, off the dependency chain.
    auto output = [&](std::size_t k, double volatility) {
        const double er = efficiency<C>(x[k] - x[k - p], volatility, p);
        if constexpr (Fused) {
            const double sc = __builtin_fma(er, diff, ssc);
            yv = __builtin_fma(sc * sc, x[k] - yv, yv);
        } else {
            yv = advance(yv, smoothing(er, diff, ssc), x[k]);
        }
        y[k] = yv;
    };
    for (std::size_t i = start; i < n; i += p) {
        const bool has_next = n - i > p;  // output i + p exists, so the next block is complete
        const double* xi = x + i;         // moves of the next block: |xi[o+1] - xi[o]|, o = 0..p-1
        double prefix = 0.0, tail = 0.0;
        // Offset 0, then the rest of the block, with or without the next block's sums (two
        // loops rather than a test per output).
        if (has_next) {
            tail = __builtin_fabs(xi[p] - xi[p - 1]) + tail;
            next[p - 1] = tail;
        }
        if (!(C == compat_t::vectorta && i == start)) output(i, suffix[0] + prefix);  // else the seed
        if (has_next) {
            for (std::size_t r = 1; r < p; ++r) {
                prefix += __builtin_fabs(xi[r] - xi[r - 1]);
                const std::size_t o = p - 1 - r;
                tail = __builtin_fabs(xi[o + 1] - xi[o]) + tail;
                next[o] = tail;
                output(i + r, suffix[r] + prefix);
            }
        } else {
            for (std::size_t r = 1; r < n - i; ++r) {
                prefix += __builtin_fabs(xi[r] - xi[r - 1]);
                output(i + r, suffix[r] + prefix);
            }
        }
        double* const swap = suffix;  // not std::swap: nothing from the standard library is
        suffix = next;                // instantiated here (see simd_kama.hpp)
        next = swap;
    }
    std::free(owned);
    return status_t::ok;
}

template <bool Fused, class... Args>
status_t run_scalar_for(const params_t& prm, Args... args) noexcept {
    switch (er_rule(prm.compat)) {
        case compat_t::talib: return run_scalar<compat_t::talib, Fused>(args...);
        case compat_t::pandas_ta: return run_scalar<compat_t::pandas_ta, Fused>(args...);
        default: return run_scalar<compat_t::vectorta, Fused>(args...);
    }
}

}  // namespace
}  // namespace kama
