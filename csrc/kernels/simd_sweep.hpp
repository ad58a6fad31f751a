// A sweep of periods over one series: V::L periods side by side, one per lane, each running the
// scalar kernel's arithmetic (scalar.cpp's run_scalar, operation for operation and in its
// order: no FMA), so that every lane's output equals kama_f64_scalar's for its period bit for
// bit. Compiled per instruction set with simd_kama.hpp (same unnamed-namespace rule).
//
// Lanes see the same prices but cut their moves into blocks of their own period. A block's
// suffix sums are summed backwards from its last bar (as run_scalar builds them), so a tile of
// bars whose sums are not all made yet gets a backward pass first: from the last bar of every
// lane's block p_max bars past the tile down to the first bar some lane still lacks, each lane
// adding its move p_l - 1 bars back (a gather) and starting again from 0 at its blocks' last
// bars, into a ring of sums indexed by bar. Looking p_max bars ahead makes each pass serve at
// least p_max bars for at most 2 p_max of work, however the lanes' block ends are spread. The
// forward pass then walks the tile's bars in order: the running prefix of each block's moves
// (0 on a block's first bar), the p-bar change (a gather of x[k - p_l]), the efficiency ratio,
// the smoothing constant and the recurrence, for all lanes at once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels.hpp"
#include "simd_kama.hpp"

namespace kama {
namespace {

constexpr std::size_t sweep_tile = 1024;  // bars per backward pass

// periods[l], ys[l]: lane l's period and result row (n values); lanes below lane_lo are
// computed but not written. For every lane first + period < n, not TA-Lib's copy, and the
// period is at most kama_rows_max_period (the caller checks). C is the mode's er_rule.
template <class V, compat_t C>
status_t run_sweep(const double* x, std::size_t n, std::size_t first, const std::size_t* periods,
                   double* const* ys, std::size_t lane_lo, const params_t& prm) {
    using reg = typename V::reg;
    using ireg = typename V::ireg;
    using mask_t = typename V::mask;
    constexpr std::size_t L = V::L;
    std::size_t p_min = periods[0], p_max = periods[0];
    for (std::size_t l = 1; l < L; ++l) {
        p_min = periods[l] < p_min ? periods[l] : p_min;
        p_max = periods[l] > p_max ? periods[l] : p_max;
    }
    // Live bars for a tile [t0, t1): sums from t0 to a pass's top, below t1 + 2 p_max; moves
    // from t0 - p_max (the lowest a pass reads) to that top.
    const std::size_t ring = pow2_at_least(sweep_tile + 3 * p_max + 2 * L), mask = ring - 1;
    void* mem = nullptr;
    // Outputs wait in a ring of rows and go out a whole tile at a time every stage_run bars.
    constexpr std::size_t stage_run = 64;
    const std::size_t stage_rows = pow2_at_least(stage_run + 2 * L), stage_mask = stage_rows - 1;
    const std::size_t doubles = 2 * ring + ring * L + stage_rows * L + 8 * L;
    mem = alloc_aligned(doubles * sizeof(double), 64);
    if (!mem) return status_t::no_memory;
    std::memset(mem, 0, doubles * sizeof(double));
    // moves[t & mask] = moves[(t & mask) + ring] = |x[t] - x[t-1]|: L moves from any slot are
    // contiguous.
    double* const moves = static_cast<double*>(mem);
    double* const sums = moves + 2 * ring;                // sums[(t & mask)*L + l]: lane l's suffix sum at t
    double* const stage = sums + ring * L;             // stage[(t & stage_mask)*L + l]: lane l's output at t
    double* const seeds = stage + stage_rows * L;
    double* const starts = seeds + L;                  // as doubles: bar of the first recurrence step
    double* const shown = starts + L;                  // bar of the first output
    double* const flat = shown + L;                    // flat_efficiency
    double* const tmp = flat + L;
    std::int64_t* const ints = reinterpret_cast<std::int64_t*>(tmp + L);  // 3 * L

    const bool vectorta = prm.compat == compat_t::vectorta;
    // Periods p, p + 1, ..., p + L - 1 (the common sweep): lane l's values k - p_l bars back are
    // contiguous, read in one load and reversed instead of gathered.
    bool consecutive = true;
    for (std::size_t l = 1; l < L; ++l) consecutive &= periods[l] == periods[0] + l;
    const std::size_t start_max = first + p_max;
    std::size_t start_min = SIZE_MAX;
    for (std::size_t l = 0; l < L; ++l) {
        params_t one = prm;
        one.period = periods[l];
        const std::size_t start = first + periods[l];
        start_min = start < start_min ? start : start_min;
        starts[l] = static_cast<double>(start);
        shown[l] = static_cast<double>(first_output(first, one));
        seeds[l] = vectorta ? 0.0 : seed_value(x, first, one);
        flat[l] = 1.0 / static_cast<double>(periods[l]);
    }
    const std::size_t k_lo = (start_min - 1) / L * L;  // a tile boundary at or before every output
    for (std::size_t l = lane_lo; l < L; ++l)
        for (std::size_t t = 0; t < k_lo; ++t) ys[l][t] = __builtin_nan("");

    const bool stream = prm.stream;  // results bypass the cache
    std::size_t moved = first + 1;  // bars whose move is in the ring
    auto move_upto = [&](std::size_t upto) {
        for (; moved < upto; ++moved)
            moves[moved & mask] = moves[(moved & mask) + ring] = __builtin_fabs(x[moved] - x[moved - 1]);
    };
    auto flush = [&](std::size_t t0, std::size_t count) {  // bars t0..t0+count-1, t0 a multiple of L
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
    for (std::size_t l = 0; l < L; ++l) ints[l] = static_cast<std::int64_t>(periods[l]);
    const ireg pv = V::iload(ints), pv_last = V::isub(pv, V::iset1(1)), ione = V::iset1(1);
    const ireg ring_mask = V::iset1(static_cast<std::int64_t>(mask)), izero = V::iset1(0);
    // Bar k's offset in lane l's block, (k - start_l) mod p_l, as a non-negative integer.
    auto offsets_at = [&](std::size_t k) {
        for (std::size_t l = 0; l < L; ++l) {
            const std::int64_t d = static_cast<std::int64_t>(k) - static_cast<std::int64_t>(first + periods[l]);
            const std::int64_t p = static_cast<std::int64_t>(periods[l]);
            ints[L + l] = ((d % p) + p) % p;
        }
        return V::iload(ints + L);
    };

    // The backward pass over bars hi down to lo: lane l's suffix sum at bar k is
    // move(k - p_l + 1) plus its sum at k + 1, or plus 0 at its block's last bar.
    auto backward = [&](std::size_t hi, std::size_t lo) {
        ireg offset = offsets_at(hi);
        for (std::size_t l = 0; l < L; ++l)
            ints[l] = static_cast<std::int64_t>(hi) - static_cast<std::int64_t>(periods[l]) + 1;
        ireg back = V::iload(ints);  // k - p_l + 1
        reg acc = V::zero();
        for (std::size_t k = hi + 1; k-- > lo;) {
            const reg move = consecutive ? V::load_reversed(moves + ((k - p_max + 1) & mask))
                                         : V::gather(moves, V::iand(back, ring_mask));
            acc = V::add(move, V::select(V::ieq(offset, pv_last), V::zero(), acc));
            V::store(sums + (k & mask) * L, acc);
            back = V::isub(back, ione);
            offset = V::isub(offset, ione);
            offset = V::iselect(V::igt(izero, offset), pv_last, offset);
        }
        for (std::size_t l = 0; l < L; ++l) ints[l] = static_cast<std::int64_t>(periods[l]);  // pv's
    };

    const reg diff = V::set1(prm.fsc - prm.ssc), ssc = V::set1(prm.ssc), nan = V::set1(__builtin_nan(""));
    const reg one_bar = V::set1(1.0), startv = V::load(starts), shownv = V::load(shown), flat_er = V::load(flat);
    reg y = V::load(seeds), prefix = V::zero(), bar = V::set1(static_cast<double>(k_lo));
    for (std::size_t l = 0; l < L; ++l)
        ints[2 * L + l] = static_cast<std::int64_t>(k_lo) - static_cast<std::int64_t>(periods[l]);
    ireg lag = V::iload(ints + 2 * L);  // k - p_l: the bar of each lane's p-bar change
    ireg offset = offsets_at(k_lo);     // forward: 0 on a block's first bar
    // The forward pass at bar k.
    auto step = [&](std::size_t k, bool warm) __attribute__((always_inline)) {
        const std::size_t row = k & mask;
        const reg xv = V::set1(x[k]);
        if (k > first) prefix = V::add(prefix, V::set1(moves[row]));
        prefix = V::select(V::ieq(offset, izero), V::zero(), prefix);  // a block's first bar: 0
        offset = V::iadd(offset, ione);
        offset = V::iselect(V::ieq(offset, pv), izero, offset);
        const reg volatility = V::add(V::load(sums + row * L), prefix);
        const mask_t active = V::ge(bar, startv);  // k >= start_l, so k - p_l >= first
        reg lagged;  // x[k - p_l]
        if (warm) {
            lagged = V::gather_masked(x, lag, active);
        } else {
            lagged = consecutive ? V::load_reversed(x + k - p_max) : V::gather(x, lag);
        }
        lag = V::iadd(lag, ione);
        const reg er = V::template efficiency<C>(V::sub(xv, lagged), volatility, flat_er);
        const reg sc = V::add(V::mul(er, diff), ssc);
        const reg stepped = V::add(y, V::mul(V::mul(sc, sc), V::sub(xv, y)));
        if (warm) {
            y = V::select(active, stepped, y);
            if (vectorta) y = V::select(V::eq(bar, startv), xv, y);  // the seed: the price itself
            V::store(stage + (k & stage_mask) * L, V::select(V::ge(bar, shownv), y, nan));
            bar = V::add(bar, one_bar);
        } else {
            y = stepped;
            V::store(stage + (k & stage_mask) * L, y);
        }
    };
    // Bars [a, b) in runs of stage_run, each followed by its whole tiles' flush, out of the loop.
    std::size_t flushed = k_lo;
    auto forward = [&](std::size_t a, std::size_t b, bool warm) __attribute__((always_inline)) {
        while (a < b) {
            const std::size_t c = (a / stage_run + 1) * stage_run < b ? (a / stage_run + 1) * stage_run : b;
            for (std::size_t k = a; k < c; ++k) step(k, warm);
            for (; flushed + L <= c; flushed += L) flush(flushed, L);
            a = c;
        }
    };
    // Sums already final for every lane: at each bar in [start_min, valid] a lane needs (bars
    // from its start on), once `passed`. A pass down from bar hi finishes lane l's sums up to its
    // last block end at or below hi; with long periods one pass serves many tiles.
    std::size_t valid = 0;
    bool passed = false;
    for (std::size_t t0 = k_lo; t0 < n; t0 += sweep_tile) {
        const std::size_t t1 = t0 + sweep_tile < n ? t0 + sweep_tile : n;
        move_upto(t1);
        if (t1 > start_min && (!passed || valid < t1 - 1)) {
            // Down from the last bar of the block each lane is in at `ahead`, so that every
            // lane's sums are made up to there at least.
            const std::size_t ahead = t1 - 1 + p_max;
            std::size_t hi = 0;
            for (std::size_t l = 0; l < L; ++l) {
                const std::size_t start = first + periods[l];
                if (ahead < start) continue;
                const std::size_t end = start + ((ahead - start) / periods[l] + 1) * periods[l] - 1;
                hi = end > hi ? end : hi;
            }
            const std::size_t lo = passed ? valid + 1 : (t0 > start_min ? t0 : start_min);
            move_upto(hi < n ? hi + 1 : n);  // the moves of every lane's sums up to hi
            backward(hi, lo);
            passed = true;
            valid = SIZE_MAX;
            for (std::size_t l = 0; l < L; ++l) {
                const std::size_t start = first + periods[l];
                // The last bar of a block of lane l at or below hi (start - 1 ends the one
                // before its first); a lane starting past hi needs none of the bars up to there.
                const std::size_t bound = hi + 1 < start ? start - 1 : start - 1 + (hi + 1 - start) / periods[l] * periods[l];
                valid = bound < valid ? bound : valid;
            }
        }
        // Up to the last lane's first step (warm), lanes are masked; after, the plain recurrence.
        const std::size_t mid = t1 <= start_max ? t1 : (t0 > start_max ? t0 : start_max + 1);
        forward(t0, mid, true);
        forward(mid, t1, false);
    }
    if (flushed < n) flush(flushed, n - flushed);
    if (stream) V::fence();
    free_aligned(mem);
    return status_t::ok;
}

template <class V>
status_t run_sweep_mode(const double* x, std::size_t n, std::size_t first, const std::size_t* periods,
                        double* const* ys, std::size_t lane_lo, const params_t& prm) {
    switch (prm.compat) {  // kama_math.hpp's er_rule: tulipy's is TA-Lib's
        case compat_t::talib:
        case compat_t::tulipy: return run_sweep<V, compat_t::talib>(x, n, first, periods, ys, lane_lo, prm);
        case compat_t::pandas_ta: return run_sweep<V, compat_t::pandas_ta>(x, n, first, periods, ys, lane_lo, prm);
        default: return run_sweep<V, compat_t::vectorta>(x, n, first, periods, ys, lane_lo, prm);
    }
}

}  // namespace
}  // namespace kama
