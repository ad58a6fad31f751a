// The SIMD kernel, written once over a vector type V (V::L lanes of double) and compiled per
// instruction set by avx2.cpp and avx512.cpp under their target regions, and by neon.cpp. Everything here lives
// in an unnamed namespace: each ISA's file gets its own copy, so no AVX code can be merged into
// a function the scalar path calls (no ODR folding across targets). Nothing from the standard
// library is instantiated here for the same reason.
//
// KAMA's recurrence y_i = y_{i-1} + c_i (x_i - y_{i-1}) has c_i depending on the prices only, so
// the outputs are cut into L chunks that run side by side, one per lane, on data transposed so
// that a lane's next value sits in the next vector. Lane 0 starts from the true previous output;
// every other lane starts from 0 and keeps P, the product of its (1 - c_i), so that its true
// output is y_local + P * carry, where the carry (the previous lane's last output) is composed
// lane by lane once the superblock is done. P shrinks geometrically, so the correction is made
// only on a lane's head, where P > 2^-120: beyond it the correction is under 2^-120 * |carry|.
// (2^-60 was not enough: a lane starting just after a 1e15 tick carries ~1e14, and its output
// is back near 100 long before P reaches 2^-60; tests/test_simd.py keeps that case.)
// Each lane's volatility is the scalar kernel's: suffix sums of the block in use plus a running
// prefix of the next, never a running difference.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "kernels.hpp"
#include "parallel.hpp"
#include "scalar_kama.hpp"

namespace kama {
namespace {

constexpr std::size_t simd_chunk_target = 8192;  // outputs per lane and superblock, rounded to p

// A compile-time switch for a loop body (no std::integral_constant: see above).
template <bool B>
struct flag {
    static constexpr bool value = B;
};

inline std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }
inline std::size_t min_size(std::size_t a, std::size_t b) { return a < b ? a : b; }

constexpr double head_threshold = 0x1p-120;  // P below this: the carry no longer shows

inline void fill_nan(double* y, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) y[i] = __builtin_nan("");
}

inline std::size_t pow2_at_least(std::size_t v) {
    std::size_t r = 1;
    while (r < v) r <<= 1;
    return r;
}

// What every superblock of one call shares.
struct shape_t {
    const double* x;
    double* y;
    std::size_t n, p, start;
    std::size_t chunk;  // outputs per lane and superblock, a whole number of blocks
    std::size_t ring;   // rows of the transposed-price ring, a power of two
    std::size_t stage;  // rows of the local-output ring, a power of two of at least p + 2L
    double fsc, ssc;
    double flat_er;        // pandas_ta's efficiency ratio of a flat window (kama_math.hpp's)
    std::size_t head_cap;  // rows of head storage: the longest lane this call runs
};

// Outputs per lane in the superblock at sb: the chunk, or fewer (whole blocks) at the end,
// where lanes past n read the last price and their outputs are dropped.
inline std::size_t lane_length(std::size_t chunk, std::size_t p, std::size_t lanes, std::size_t n,
                               std::size_t sb) {
    return min_size(chunk, p * ((n - sb + lanes * p - 1) / (lanes * p)));
}

// A worker's scratch memory, freed by run_simd's ranges_t (no destructor here, so that the
// 64 ranges on its stack cost nothing to set up or tear down on a short call).
struct buffers_t {
    void* mem;
    double *rx, *tp, *hy, *suffix, *next, *stage, *lanes, *keep;

    bool allocate(const shape_t& s, std::size_t L, bool keep_head) {
        const std::size_t head = round_up(s.head_cap, L) * L;
        const std::size_t doubles = s.ring * L + (keep_head ? 3 : 2) * head + 2 * s.p * L + s.stage * L + 4 * L * L;
        mem = alloc_aligned(doubles * sizeof(double), 64);
        if (!mem) return false;
        rx = static_cast<double*>(mem);  // rx[(j & mask)*L + l] = x[s_l - p + j]
        tp = rx + s.ring * L;           // P on the lanes' heads
        hy = tp + head;                 // local outputs on the lanes' heads
        keep = keep_head ? hy + head : nullptr;  // the head rows still owed a multiple of U
        suffix = hy + (keep_head ? 2 : 1) * head;  // suffix sums, current and next block
        next = suffix + s.p * L;
        stage = next + s.p * L;         // local outputs awaiting transposition, a row each
        lanes = stage + s.stage * L;    // 4 * L scratch
        std::memset(rx, 0, s.ring * L * sizeof(double));
        return true;
    }
};

// The output before a superblock is alpha + beta * U: alpha known, U the unknown output
// before the worker's range (beta is 0 once it no longer shows).
struct carry_t {
    double alpha, beta;
};

enum class sb_status { ok, nan_rest, infinite };

// The move ending at a row, |X(row) - X(row - 1)|, from X of the row before, at hand in a register.
template <class V>
typename V::reg move(typename V::reg at, typename V::reg before) {
    return V::abs(V::sub(at, before));
}

// Adds scale * rows[t][l] to lane l's outputs for t < count (lanes [lane_lo, lane_hi)).
template <class V>
void add_rows(const shape_t& s, double* scratch, std::size_t sb, std::size_t lc, const double* rows,
              std::size_t count, typename V::reg scale, std::size_t lane_lo, std::size_t lane_hi) {
    constexpr std::size_t L = V::L;
    for (std::size_t t0 = 0; t0 < count; t0 += L) {
        typename V::reg tile[L];
        for (std::size_t k = 0; k < L; ++k) tile[k] = V::mul(V::load(rows + (t0 + k) * L), scale);
        V::transpose(tile);
        for (std::size_t l = lane_lo; l < lane_hi; ++l) {
            const std::size_t to = sb + l * lc + t0;
            const std::size_t stop = min_size(min_size(to + L, sb + (l + 1) * lc), s.n);
            if (to + L == stop) {
                V::store(s.y + to, V::add(V::load(s.y + to), tile[l]));
            } else {
                V::store(scratch, tile[l]);
                for (std::size_t k = 0; to + k < stop; ++k) s.y[to + k] += scratch[k];
            }
        }
    }
}

// Outputs [sb, sb + L*lc) (those below n), lane l taking [sb + l*lc, sb + (l+1)*lc). With
// keep_rows, the superblock starts a worker's range (carry.beta == 1) and its head rows owed a
// multiple of U are kept in b.keep.
template <class V, compat_t C>
sb_status superblock(const shape_t& s, buffers_t& b, std::size_t sb, carry_t& carry, std::size_t* keep_rows) {
    using reg = typename V::reg;
    constexpr std::size_t L = V::L;
    const double* const x = s.x;
    double* const y = s.y;
    const std::size_t n = s.n, p = s.p, mask = s.ring - 1;
    const reg diff = V::set1(s.fsc - s.ssc), ssc = V::set1(s.ssc), flat_er = V::set1(s.flat_er);
    const reg threshold = V::set1(head_threshold);
    double* const rx = b.rx;
    double* const lanes = b.lanes;

    const std::size_t lc = lane_length(s.chunk, p, L, n, sb);
    const double* const x0 = x + sb - p;  // lane l's row j is x0[l*lc + j], at or after first
    // Tiles of rows below fast_rows are inside x for every lane.
    const std::size_t fast_rows = n + p - sb >= (L - 1) * lc + L ? n + p - sb - (L - 1) * lc - L + 1 : 0;
    std::size_t made = 0;  // rows transposed so far (a multiple of L)
    auto make_rows = [&](std::size_t upto) {
        for (; made < upto; made += L) {
            reg tile[L];
            if (made < fast_rows) {
                for (std::size_t l = 0; l < L; ++l) tile[l] = V::load(x0 + l * lc + made);
            } else {  // past the end of x: repeat the last price (at most one lane straddles it)
                for (std::size_t l = 0; l < L; ++l) {
                    const std::size_t from = sb - p + l * lc + made;
                    if (from + L <= n) {
                        tile[l] = V::load(x + from);
                    } else if (from >= n) {
                        tile[l] = V::set1(x[n - 1]);
                    } else {
                        for (std::size_t k = 0; k < L; ++k) lanes[k] = x[min_size(from + k, n - 1)];
                        tile[l] = V::load(lanes);
                    }
                }
            }
            V::transpose(tile);
            for (std::size_t k = 0; k < L; ++k) {
                const std::size_t at = ((made + k) & mask) * L;
                V::store(rx + at, tile[k]);
            }
        }
    };
    auto X = [rx, mask](std::size_t row) { return V::load(rx + (row & mask) * L); };

    // Local outputs go to y a tile at a time (rows t0..t0+count-1), transposed.
    auto write_tile = [&](std::size_t t0, std::size_t count, reg* tile) {
        V::transpose(tile);
        if (count == L && sb + (L - 1) * lc + t0 + L <= n) {
            for (std::size_t l = 0; l < L; ++l) V::store(y + sb + l * lc + t0, tile[l]);
            return;
        }
        for (std::size_t l = 0; l < L; ++l) {
            const std::size_t to = sb + l * lc + t0;
            const std::size_t stop = min_size(min_size(to + count, sb + (l + 1) * lc), n);
            double* const scratch = lanes + 4 * L;  // below it: the carries' scratch
            V::store(scratch, tile[l]);
            for (std::size_t k = 0; to + k < stop; ++k) y[to + k] = scratch[k];
        }
    };
    // Past the heads, local outputs are final: they go to y from a ring, a block at a time.
    const std::size_t stage_mask = s.stage - 1;
    auto flush = [&](std::size_t t0, std::size_t count) {
        reg tile[L];
        for (std::size_t k = 0; k < L; ++k) tile[k] = V::load(b.stage + ((t0 + k) & stage_mask) * L);
        write_tile(t0, count, tile);
    };

    // Suffix sums of each lane's first block: moves ending at rows 1..p.
    double* suffix = b.suffix;
    double* next = b.next;
    make_rows(round_up(2 * p + 1, L));
    reg tail = V::zero();
    for (std::size_t o = p; o-- > 0;) {
        tail = V::add(move<V>(X(o + 1), X(o)), tail);
        V::store(suffix + o * L, tail);
    }

    // The lanes' scans. Lane 0 starts from alpha with P = beta; the others from 0 with P = 1.
    reg ylocal = V::first_lane_set(V::zero(), carry.alpha);
    reg prod = V::first_lane_set(V::set1(1.0), carry.beta);
    std::size_t head_rows = lc;  // rows whose P some lane still needs
    bool in_head = true;
    const std::size_t blocks = lc / p;
    std::size_t flushed = 0;  // rows of final outputs written to y so far (a multiple of L)
    // Rows [r0, r1) of the block whose first output is at row i0, with the block's tests
    // (a next block to sum, P still stored, VectorTA's seed on this very row) fixed at compile
    // time, so that the loop carries no branch per row. Head rows keep their local outputs and P
    // for the correction after the superblock; later rows go to the ring. With Head it stops after
    // a tile of rows on which every lane's P fell below the threshold; returns the row after
    // the last one run.
    auto run_rows = [&](auto next_tag, auto head_tag, auto seed_tag, std::size_t i0, std::size_t r0,
                        std::size_t r1, reg& prefix, reg& tail, reg& xprev, reg& xhi) __attribute__((always_inline)) {
        constexpr bool HasNext = decltype(next_tag)::value, Head = decltype(head_tag)::value;
        constexpr bool Seed = decltype(seed_tag)::value;
        const double* const cur = suffix;
        double* const nxt = next;
        for (std::size_t r = r0; r < r1; ++r) {
            const std::size_t row = i0 + r, t = row - p;
            const reg xv = X(row);
            if (r > 0) prefix = V::add(prefix, move<V>(xv, xprev));
            xprev = xv;
            if constexpr (HasNext) {  // the next block's suffix sums, off the dependency chain
                const std::size_t o = p - 1 - r;
                const reg xlo = X(i0 + o);
                tail = V::add(move<V>(xhi, xlo), tail);
                xhi = xlo;
                V::store(nxt + o * L, tail);
            }
            const reg volatility = V::add(V::load(cur + r * L), prefix);
            const reg er = V::template efficiency<C>(V::sub(xv, X(row - p)), volatility, flat_er);
            const reg sc = V::fmadd(er, diff, ssc);
            reg c = V::mul(sc, sc);
            if constexpr (Seed) c = V::first_lane_set(c, 1.0);  // from 0, y + 1 * (x - y) is x exactly
            ylocal = V::fmadd(c, V::sub(xv, ylocal), ylocal);
            prod = V::fnmadd(prod, c, prod);  // P (1 - c)
            if constexpr (Head) {
                V::store(b.hy + t * L, ylocal);
                V::store(b.tp + t * L, prod);
                // NaN never passes, so a lane with a NaN keeps its head to the end.
                if ((t & (L - 1)) == L - 1 && V::all_le(prod, threshold)) {
                    in_head = false;
                    head_rows = t + 1;
                    return r + 1;
                }
            } else {
                V::store(b.stage + (t & stage_mask) * L, ylocal);
            }
        }
        return r1;
    };
    for (std::size_t blk = 0; blk < blocks; ++blk) {
        const std::size_t i0 = p + blk * p;  // row of the block's first output
        const bool has_next = blk + 1 < blocks;
        make_rows(round_up(i0 + p + 1, L));  // this block's rows and the next one's moves
        reg prefix = V::zero(), xprev = V::zero(), xhi = X(i0 + p);
        tail = V::zero();
        std::size_t r = 0;
        auto rest = [&](auto next_tag) __attribute__((always_inline)) {
            if (C == compat_t::vectorta && sb == s.start && blk == 0)  // the seed: lane 0's first row
                r = run_rows(next_tag, flag<true>{}, flag<true>{}, i0, 0, 1, prefix, tail, xprev, xhi);
            if (in_head) r = run_rows(next_tag, flag<true>{}, flag<false>{}, i0, r, p, prefix, tail, xprev, xhi);
            run_rows(next_tag, flag<false>{}, flag<false>{}, i0, r, p, prefix, tail, xprev, xhi);
        };
        if (has_next) {
            rest(flag<true>{});
        } else {
            rest(flag<false>{});
        }
        double* swap = suffix;
        suffix = next;
        next = swap;
        // The block's whole tiles of final outputs, out of the rows loop.
        if (!in_head) {
            if (flushed < head_rows) flushed = head_rows;
            for (; flushed + L <= blk * p + p; flushed += L) flush(flushed, L);
        }
    }
    if (lc % L && !in_head) flush(lc - lc % L, lc % L);

    // Carries: lane l + 1 starts where lane l ends, alpha + beta U each.
    double* lane_prod = lanes;
    double* lane_end = lanes + L;
    double* alpha = lanes + 2 * L;
    double* beta = lanes + 3 * L;
    V::store(lane_prod, prod);
    V::store(lane_end, ylocal);
    alpha[0] = 0.0;  // lane 0 has its alpha already
    beta[0] = carry.beta == 0.0 ? 0.0 : 1.0;  // and its P carries beta
    double a = lane_end[0], bt = lane_prod[0];
    std::size_t broken = L;  // first lane whose carry is not finite
    for (std::size_t l = 1; l < L; ++l) {
        alpha[l] = a;
        beta[l] = bt;
        if (!__builtin_isfinite(a) && broken == L) broken = l;
        a = lane_prod[l] * a + lane_end[l];
        bt = lane_prod[l] * bt;
    }
    if (broken < L && !__builtin_isnan(alpha[broken])) return sb_status::infinite;
    carry = {a, bt};

    // The heads to y, each output plus P * alpha (alpha is 0 on lane 0; lanes from `broken`
    // on are NaN below); P * beta * U is kept for when U is known.
    const reg alpha_v = V::load(alpha);
    for (std::size_t t0 = 0; t0 < head_rows; t0 += L) {
        reg tile[L];
        for (std::size_t k = 0; k < L; ++k)
            tile[k] = V::add(V::load(b.hy + (t0 + k) * L), V::mul(V::load(b.tp + (t0 + k) * L), alpha_v));
        write_tile(t0, min_size(L, head_rows - t0), tile);
    }
    if (keep_rows) {
        const reg coef = V::load(beta);
        for (std::size_t t = 0; t < head_rows; ++t)
            V::store(b.keep + t * L, V::mul(V::load(b.tp + t * L), coef));
        *keep_rows = head_rows;
    }
    // From a NaN carry on, every output is NaN, as in the sequential recurrence (the caller
    // fills the outputs after this superblock).
    if (broken < L) {
        fill_nan(y, sb + broken * lc, min_size(sb + L * lc, n));
        return sb_status::nan_rest;
    }
    return sb_status::ok;
}

// One worker's range of superblocks.
struct range_t {
    std::size_t sb_begin, sb_end;  // output indices, superblock-aligned (sb_end may pass n)
    std::size_t keep_rows;         // head rows of the first superblock owed a multiple of U
    bool known_start;              // the first worker knows the output before its range
    bool infinite;                 // an infinite carry: the series goes to the scalar kernel
    bool slow;                     // U still showed after the first superblock: no split
    bool nan_rest;                 // NaN from some output of the range on
    buffers_t buffers;
};

// The ranges of one call: set up one by one, and their scratch freed on every way out.
struct ranges_t {
    range_t at[64];
    std::size_t count = 0;
    ~ranges_t() {
        for (std::size_t w = 0; w < count; ++w) free_aligned(at[w].buffers.mem);
    }
};

struct job_ctx_t {
    const shape_t* s;
    range_t* ranges;
    double seed;  // the output before the first one (lane 0 of the first worker)
};

template <class V, compat_t C>
void run_range_body(const shape_t& s, range_t& r, double seed) {
    constexpr std::size_t L = V::L;
    carry_t carry = r.known_start ? carry_t{seed, 0.0} : carry_t{0.0, 1.0};
    for (std::size_t sb = r.sb_begin; sb < r.sb_end && sb < s.n; sb += L * s.chunk) {
        const bool first_unknown = !r.known_start && sb == r.sb_begin;
        const sb_status st = superblock<V, C>(s, r.buffers, sb, carry, first_unknown ? &r.keep_rows : nullptr);
        if (st == sb_status::infinite) {
            r.infinite = true;
            return;
        }
        if (st == sb_status::nan_rest) {
            fill_nan(s.y, sb + L * s.chunk, min_size(r.sb_end, s.n));
            r.nan_rest = true;
            return;
        }
        if (first_unknown && !(carry.beta <= head_threshold)) {  // U still shows: no split here
            r.slow = true;
            return;
        }
        carry.beta = 0.0;
    }
}

// A worker's entry, called from baseline code (run_tasks). Wide registers left dirty on the
// way out of AVX code make every later SSE instruction in the process pay a merge (measured:
// the scalar kernel ran 4.5x slower afterwards), so each exit to baseline code clears them.
template <class V, compat_t C>
void run_range(void* raw, std::size_t index) {
    auto* ctx = static_cast<job_ctx_t*>(raw);
    run_range_body<V, C>(*ctx->s, ctx->ranges[index], ctx->seed);
    V::leave();
}

// C is the mode's er_rule; the seed follows prm.compat.
template <class V, compat_t C>
status_t run_simd(const double* x, std::size_t n, std::size_t first, const params_t& prm, double* y) {
    constexpr std::size_t L = V::L;
    const std::size_t p = prm.period;
    const std::size_t start = first + p;
    // Short work, TA-Lib's copy for period 1, and periods longer than a chunk (whose ring of
    // transposed rows would outgrow the input) go to the scalar loop, with fused multiply-adds.
    if (copies_input(prm) || start >= n || n - start < 3 * L * p ||
        n - start < 112 * L || p > simd_chunk_target)
        return run_scalar_for<true>(prm, x, n, first, prm, y, static_cast<double*>(nullptr));

    const std::size_t chunk = p * ((simd_chunk_target + p - 1) / p);
    // A short series runs shorter lanes: its scratch needs no more rows than those.
    const shape_t s{x, y, n, p, start, chunk, pow2_at_least(2 * p + 3 * L), pow2_at_least(p + 2 * L), prm.fsc, prm.ssc,
                    1.0 / static_cast<double>(p), lane_length(chunk, p, L, n, start)};
    const std::size_t span = L * s.chunk;  // outputs per superblock
    const std::size_t superblocks = (n - start + span - 1) / span;
    const std::size_t workers = min_size(workers_for(prm.threads, superblocks, n - start), 64);

    ranges_t held;
    range_t* const ranges = held.at;
    for (std::size_t w = 0; w < workers; ++w) {
        range_t& r = ranges[w];
        r.sb_begin = start + (superblocks * w / workers) * span;
        r.sb_end = start + (superblocks * (w + 1) / workers) * span;
        r.keep_rows = 0;
        r.known_start = w == 0;
        r.infinite = r.slow = r.nan_rest = false;
        held.count = w + 1;
        // All scratch before anything is written, so that no_memory leaves y as it was.
        if (!r.buffers.allocate(s, L, w > 0)) return status_t::no_memory;
    }
    // From here on nothing allocates: the fallbacks borrow worker 0's scratch.
    auto scalar_instead = [&] {
        run_scalar_for<true>(prm, x, n, first, prm, y, ranges[0].buffers.suffix);
        return status_t::ok;
    };
    fill_nan(y, 0, start);
    // The other modes start the recurrence from a seed before `start` (which tulipy and
    // pandas_ta output); VectorTA's seed is made in lane 0.
    const bool vectorta = prm.compat == compat_t::vectorta;
    job_ctx_t ctx{&s, ranges, vectorta ? 0.0 : seed_value(x, first, prm)};
    if (emits_seed(prm.compat)) y[start - 1] = ctx.seed;
    run_tasks(workers, run_range<V, C>, &ctx);

    bool infinite = false, slow = false;
    for (std::size_t w = 0; w < workers; ++w) {
        infinite |= ranges[w].infinite;
        slow |= ranges[w].slow;
    }
    if (infinite) return scalar_instead();
    if (slow) {  // a decay too slow to split on: the whole series on one worker
        range_t& r = ranges[0];
        r.sb_end = start + superblocks * span;
        r.nan_rest = false;
        run_tasks(1, run_range<V, C>, &ctx);
        return r.infinite ? scalar_instead() : status_t::ok;
    }
    // Ranges in order: U is the last output before the range, final by now.
    for (std::size_t w = 1; w < workers; ++w) {
        range_t& r = ranges[w];
        const double u = y[r.sb_begin - 1];
        if (__builtin_isnan(u)) {  // NaN from here on, as in the sequential recurrence
            fill_nan(y, r.sb_begin, n);
            break;
        }
        if (!__builtin_isfinite(u)) return scalar_instead();
        add_rows<V>(s, r.buffers.lanes, r.sb_begin, lane_length(chunk, p, L, n, r.sb_begin), r.buffers.keep,
                    r.keep_rows, V::set1(u), 0, L);
        if (r.nan_rest) {  // the worker stopped at its own range's end; the rest is NaN too
            fill_nan(y, min_size(r.sb_end, n), n);
            break;
        }
    }
    return status_t::ok;
}

// run_simd for the mode's efficiency-ratio rule (tulipy's is TA-Lib's: kama_math.hpp's er_rule).
template <class V>
status_t run_simd_mode(const double* x, std::size_t n, std::size_t first, const params_t& prm, double* y) {
    switch (prm.compat) {
        case compat_t::talib:
        case compat_t::tulipy: return run_simd<V, compat_t::talib>(x, n, first, prm, y);
        case compat_t::pandas_ta: return run_simd<V, compat_t::pandas_ta>(x, n, first, prm, y);
        default: return run_simd<V, compat_t::vectorta>(x, n, first, prm, y);
    }
}

}  // namespace
}  // namespace kama
