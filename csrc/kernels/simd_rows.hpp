// Many series at once: V::L series side by side, one per lane, each running the scalar kernel's
// arithmetic (scalar.cpp's run_scalar, operation for operation and in its order: no FMA), so
// every lane's output equals kama_f64_scalar's on that series bit for bit. The series must share
// their first valid index, so that their blocks of `period` moves line up; the caller groups
// them. Compiled per instruction set with simd_kama.hpp (same unnamed-namespace rule).
//
// Prices are read a tile of L times by L series at a time and transposed into a ring of rows
// (row t: every lane's price at time t); outputs are staged as rows and transposed back.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "kernels.hpp"
#include "simd_kama.hpp"

namespace kama {
namespace {

// xs[l], ys[l]: lane l's series and result (n values each); lanes below lane_lo are computed
// but not written (a last group that overlaps the one before it). first + period < n, and
// the mode is not TA-Lib's copy, period <= kama_rows_max_period (its
// ring holds about 2 * period rows; the caller checks). C is the mode's er_rule.
template <class V, compat_t C>
status_t run_rows(const double* const* xs, double* const* ys, std::size_t lane_lo, std::size_t n,
                  std::size_t first, const params_t& prm) {
    using reg = typename V::reg;
    constexpr std::size_t L = V::L;
    const std::size_t p = prm.period, start = first + p;
    const std::size_t ring = pow2_at_least(2 * p + 2 * L + 2), mask = ring - 1;
    // Outputs go out a whole tile at a time after every run of stage_run times (and at each
    // block's end), so the ring of staged rows stays small whatever the period.
    constexpr std::size_t stage_run = 64;
    const std::size_t stage_rows = pow2_at_least(stage_run + 2 * L + 2), stage_mask = stage_rows - 1;
    void* const mem = alloc_aligned((ring * L + 2 * p * L + stage_rows * L + 2 * L) * sizeof(double), 64);
    if (!mem) return status_t::no_memory;
    double* const rx = static_cast<double*>(mem);  // rx[(t & mask) * L + l]: lane l's price at t
    double* suffix = rx + ring * L;                 // suffix sums of the block in use, then the next
    double* next = suffix + p * L;
    double* const stage = next + p * L;             // a ring of outputs, a row per time
    double* const tmp = stage + stage_rows * L;

    // Prices are read this many values ahead; results of a large call bypass the cache
    // (prm.stream: non-temporal stores), which spares reading each line before it is overwritten.
    constexpr std::size_t prefetch_ahead = 64;
    const bool stream = prm.stream;
    std::size_t made = first / L * L;  // rows transposed so far, from a tile boundary
    auto make_rows = [&](std::size_t upto) {
        for (; made < upto; made += L) {
            reg tile[L];
            for (std::size_t l = 0; l < L; ++l) {
                if (made + L <= n) {
                    __builtin_prefetch(xs[l] + made + prefetch_ahead);
                    tile[l] = V::load(xs[l] + made);
                } else {  // past the end: zeros, never read for an output
                    for (std::size_t k = 0; k < L; ++k) tmp[k] = made + k < n ? xs[l][made + k] : 0.0;
                    tile[l] = V::load(tmp);
                }
            }
            V::transpose(tile);
            for (std::size_t k = 0; k < L; ++k) V::store(rx + ((made + k) & mask) * L, tile[k]);
        }
    };
    auto X = [rx, mask](std::size_t t) { return V::load(rx + (t & mask) * L); };
    auto move = [&X](std::size_t t) { return V::abs(V::sub(X(t), X(t - 1))); };
    // The staged rows of times t0..t0+count-1 (t0 a multiple of L) to each written lane's result.
    auto flush = [&](std::size_t t0, std::size_t count) {
        reg tile[L];
        for (std::size_t k = 0; k < L; ++k) tile[k] = V::load(stage + ((t0 + k) & stage_mask) * L);
        V::transpose(tile);
        for (std::size_t l = lane_lo; l < L; ++l) {
            if (count == L) {
                if (stream && reinterpret_cast<std::uintptr_t>(ys[l] + t0) % (8 * L) == 0) {
                    V::stream(ys[l] + t0, tile[l]);
                } else {
                    V::store(ys[l] + t0, tile[l]);
                }
            } else {
                V::store(tmp, tile[l]);
                for (std::size_t k = 0; k < count; ++k) ys[l][t0 + k] = tmp[k];
            }
        }
    };

    // Before the first recurrence step: NaN, and the seed at start - 1 in the modes that emit
    // it. Those of the first output tile are staged, the earlier ones written directly. Staged
    // rows go out a whole tile at a time after each block, out of the rows loop.
    const bool vectorta = prm.compat == compat_t::vectorta, seeded = emits_seed(prm.compat);
    const std::size_t t_first = start / L * L;  // the tile of the first recurrence step
    for (std::size_t l = 0; l < L; ++l) tmp[L + l] = vectorta ? 0.0 : seed_value(xs[l], first, prm);
    for (std::size_t l = lane_lo; l < L; ++l) {
        for (std::size_t t = 0; t < t_first; ++t) ys[l][t] = __builtin_nan("");
        if (seeded && start - 1 < t_first) ys[l][start - 1] = tmp[L + l];
    }
    for (std::size_t t = t_first; t < start; ++t) {
        const reg v = seeded && t == start - 1 ? V::load(tmp + L) : V::set1(__builtin_nan(""));
        V::store(stage + (t & stage_mask) * L, v);
    }
    std::size_t flushed = t_first;

    const reg diff = V::set1(prm.fsc - prm.ssc), ssc = V::set1(prm.ssc), flat_er = V::set1(1.0 / static_cast<double>(p));  // flat_efficiency
    make_rows(start + 1);
    for (std::size_t o = 0; o < p; ++o) V::store(suffix + o * L, move(first + o + 1));
    for (std::size_t o = p - 1; o-- > 0;)
        V::store(suffix + o * L, V::add(V::load(suffix + o * L), V::load(suffix + (o + 1) * L)));

    reg yv = vectorta ? X(start) : V::load(tmp + L);
    // Output r of the block from i, with its tests fixed at compile time: a next block to sum,
    // a move to add to the prefix (not at r = 0), VectorTA's seed (the price itself).
    auto step = [&](auto next_tag, auto move_tag, auto seed_tag, std::size_t i, std::size_t r, reg& prefix,
                    reg& tail) __attribute__((always_inline)) {
        const std::size_t k = i + r;
        const reg xk = X(k);
        if constexpr (decltype(move_tag)::value) prefix = V::add(prefix, V::abs(V::sub(xk, X(k - 1))));
        if constexpr (decltype(next_tag)::value) {
            const std::size_t o = p - 1 - r;
            tail = V::add(move(i + o + 1), tail);
            V::store(next + o * L, tail);
        }
        if constexpr (!decltype(seed_tag)::value) {
            const reg volatility = V::add(V::load(suffix + r * L), prefix);
            const reg er = V::template efficiency<C>(V::sub(xk, X(k - p)), volatility, flat_er);
            const reg sc = V::add(V::mul(er, diff), ssc);
            yv = V::add(yv, V::mul(V::mul(sc, sc), V::sub(xk, yv)));
        }
        V::store(stage + (k & stage_mask) * L, yv);
    };
    for (std::size_t i = start; i < n; i += p) {
        const bool has_next = n - i > p;
        const std::size_t end = has_next ? i + p : n;
        make_rows(i + p + 1);
        reg prefix = V::zero(), tail = V::zero();
        auto block = [&](auto next_tag) __attribute__((always_inline)) {
            if (vectorta && i == start) {
                step(next_tag, flag<false>{}, flag<true>{}, i, 0, prefix, tail);
            } else {
                step(next_tag, flag<false>{}, flag<false>{}, i, 0, prefix, tail);
            }
            for (std::size_t r = 1; r < end - i;) {
                const std::size_t stop = min_size(end - i, ((i + r) / stage_run + 1) * stage_run - i);
                for (; r < stop; ++r) step(next_tag, flag<true>{}, flag<false>{}, i, r, prefix, tail);
                for (; flushed + L <= i + r; flushed += L) flush(flushed, L);
            }
        };
        if (has_next) {
            block(flag<true>{});
        } else {
            block(flag<false>{});
        }
        double* swap = suffix;
        suffix = next;
        next = swap;
        for (; flushed + L <= end; flushed += L) flush(flushed, L);
    }
    if (flushed < n) flush(flushed, n - flushed);
    if (stream) V::fence();  // the non-temporal stores are seen before the caller goes on
    free_aligned(mem);
    return status_t::ok;
}

template <class V>
status_t run_rows_mode(const double* const* xs, double* const* ys, std::size_t lane_lo, std::size_t n,
                       std::size_t first, const params_t& prm) {
    switch (prm.compat) {  // kama_math.hpp's er_rule: tulipy's is TA-Lib's
        case compat_t::talib:
        case compat_t::tulipy: return run_rows<V, compat_t::talib>(xs, ys, lane_lo, n, first, prm);
        case compat_t::pandas_ta: return run_rows<V, compat_t::pandas_ta>(xs, ys, lane_lo, n, first, prm);
        default: return run_rows<V, compat_t::vectorta>(xs, ys, lane_lo, n, first, prm);
    }
}

}  // namespace
}  // namespace kama
