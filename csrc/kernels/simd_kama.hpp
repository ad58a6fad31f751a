// The SIMD kernel, written once over a vector type V (V::L lanes of double) and compiled per
// instruction set by avx2.cpp and avx512.cpp under their target pragmas. Everything here lives
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
// only on a lane's head, where P > 2^-60: beyond it the correction is under 2^-60 * max|x|.
// Each lane's volatility is the scalar kernel's: suffix sums of the block in use plus a running
// prefix of the next, never a running difference.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "kernels.hpp"

namespace kama {
namespace {

constexpr std::size_t simd_chunk_target = 8192;  // outputs per lane and superblock, rounded to p

inline std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }
inline std::size_t min_size(std::size_t a, std::size_t b) { return a < b ? a : b; }

constexpr double head_threshold = 0x1p-60;  // P below this: the carry no longer shows

inline std::size_t pow2_at_least(std::size_t v) {
    std::size_t r = 1;
    while (r < v) r <<= 1;
    return r;
}

template <class V, compat_t C>
status_t run_simd(const double* x, std::size_t n, std::size_t first, const params_t& prm, double* y) {
    using reg = typename V::reg;
    constexpr std::size_t L = V::L;
    const std::size_t p = prm.period;
    const std::size_t start = first + p;
    // Short work, and TA-Lib's copy for period 1, gain nothing from lanes.
    if ((C == compat_t::talib && p == 1) || start >= n || n - start < 4 * L * p ||
        n - start < 4 * L * 64)
        return kama_f64_scalar(x, n, first, prm, y);

    // Transposed prices and moves live in a ring of rows that stays in L1: a block reads back to
    // row - p and ahead to its end + p, and the next block's rows are made before it starts.
    const std::size_t ring = pow2_at_least(2 * p + 3 * L);
    const std::size_t mask = ring - 1;
    const std::size_t chunk = p * ((simd_chunk_target + p - 1) / p);  // a whole number of blocks
    const std::size_t doubles = (2 * ring + round_up(chunk, L) + 2 * p + 2 * L + 4) * L;
    void* mem = nullptr;
    if (posix_memalign(&mem, 64, doubles * sizeof(double)) != 0) return status_t::no_memory;
    double* const rx = static_cast<double*>(mem);  // rx[(j & mask)*L + l] = x[s_l - p + j]
    double* const rm = rx + ring * L;              // the move ending at that price
    double* const tp = rm + ring * L;              // P on the lanes' heads
    double* suffix = tp + round_up(chunk, L) * L;  // suffix sums, current and next block
    double* next = suffix + p * L;
    double* const stage = next + p * L;            // L local outputs awaiting transposition
    double* const lanes = stage + L * L;           // 4 * L scratch
    std::memset(rx, 0, 2 * ring * L * sizeof(double));

    for (std::size_t i = 0; i < start; ++i) y[i] = __builtin_nan("");
    const reg diff = V::set1(prm.fsc - prm.ssc), ssc = V::set1(prm.ssc);
    const reg threshold = V::set1(head_threshold);
    // The output before the first one: TA-Lib's seed. VectorTA's seed is the first output
    // itself, made by c = 1 below (from 0, y + 1 * (x - y) is x exactly).
    double carry = C == compat_t::talib ? x[start - 1] : 0.0;

    for (std::size_t sb = start; sb < n; sb += L * chunk) {
        // The last superblock shrinks its chunks; lanes past the end read the last price and
        // their outputs are dropped.
        const std::size_t lc = min_size(chunk, p * ((n - sb + L * p - 1) / (L * p)));
        const double* const x0 = x + sb - p;  // lane l's row j is x0[l*lc + j], >= first
        // Tiles of rows below fast_rows are inside x for every lane.
        const std::size_t fast_rows = n + p - sb >= (L - 1) * lc + L ? n + p - sb - (L - 1) * lc - L + 1 : 0;
        std::size_t made = 0;  // rows transposed so far (a multiple of L)
        reg last_row = V::zero();
        auto make_rows = [&](std::size_t upto) {
            for (; made < upto; made += L) {
                reg tile[L];
                if (made < fast_rows) {
                    for (std::size_t l = 0; l < L; ++l) tile[l] = V::load(x0 + l * lc + made);
                } else {  // past the end of x: repeat the last price
                    for (std::size_t l = 0; l < L; ++l) {
                        const std::size_t from = sb - p + l * lc + made;
                        for (std::size_t k = 0; k < L; ++k) lanes[k] = x[min_size(from + k, n - 1)];
                        tile[l] = V::load(lanes);
                    }
                }
                V::transpose(tile);
                for (std::size_t k = 0; k < L; ++k) {
                    const std::size_t at = ((made + k) & mask) * L;
                    V::store(rx + at, tile[k]);
                    V::store(rm + at, V::abs(V::sub(tile[k], last_row)));  // row 0's is unused
                    last_row = tile[k];
                }
            }
        };
        auto X = [rx, mask](std::size_t row) { return V::load(rx + (row & mask) * L); };
        auto M = [rm, mask](std::size_t row) { return V::load(rm + (row & mask) * L); };

        // Output rows go to y a tile at a time, transposed; `broken` limits the lanes written.
        auto flush = [&](std::size_t t0, std::size_t count, std::size_t lanes_out) {
            reg tile[L];
            for (std::size_t k = 0; k < L; ++k) tile[k] = V::load(stage + k * L);
            V::transpose(tile);
            if (count == L && lanes_out == L && sb + (L - 1) * lc + t0 + L <= n) {
                for (std::size_t l = 0; l < L; ++l) V::store(y + sb + l * lc + t0, tile[l]);
                return;
            }
            for (std::size_t l = 0; l < lanes_out; ++l) {
                const std::size_t to = sb + l * lc + t0;
                const std::size_t stop = min_size(min_size(to + count, sb + (l + 1) * lc), n);
                V::store(lanes, tile[l]);
                for (std::size_t k = 0; to + k < stop; ++k) y[to + k] = lanes[k];
            }
        };

        // Suffix sums of each lane's first block: moves ending at rows 1..p.
        make_rows(round_up(2 * p + 1, L));
        reg tail = V::zero();
        for (std::size_t o = p; o-- > 0;) {
            tail = V::add(M(o + 1), tail);
            V::store(suffix + o * L, tail);
        }

        // The lanes' scans. Lane 0 carries the true output (its P is 0); the others start at 0.
        reg ylocal = V::first_lane_set(V::zero(), carry);
        reg prod = V::first_lane_set(V::set1(1.0), 0.0);
        std::size_t head_rows = lc;  // rows whose P some lane still needs
        bool in_head = true;
        const std::size_t blocks = lc / p;
        for (std::size_t blk = 0; blk < blocks; ++blk) {
            const std::size_t i0 = p + blk * p;  // row of the block's first output
            const bool has_next = blk + 1 < blocks;
            make_rows(round_up(i0 + p + 1, L));  // this block's rows and the next one's moves
            reg prefix = V::zero();
            tail = V::zero();
            for (std::size_t r = 0; r < p; ++r) {
                const std::size_t row = i0 + r, t = row - p;
                const reg xv = X(row);
                if (r > 0) prefix = V::add(prefix, M(row));
                if (has_next) {  // the next block's suffix sums, off the dependency chain
                    const std::size_t o = p - 1 - r;
                    tail = V::add(M(i0 + o + 1), tail);
                    V::store(next + o * L, tail);
                }
                const reg volatility = V::add(V::load(suffix + r * L), prefix);
                const reg er = V::template efficiency<C>(V::sub(xv, X(row - p)), volatility);
                const reg sc = V::fmadd(er, diff, ssc);
                reg c = V::mul(sc, sc);
                if (C == compat_t::vectorta && sb == start && t == 0)
                    c = V::first_lane_set(c, 1.0);  // the seed: y[start] = x[start]
                ylocal = V::fmadd(c, V::sub(xv, ylocal), ylocal);
                prod = V::fnmadd(prod, c, prod);  // P (1 - c)
                V::store(stage + (t % L) * L, ylocal);
                if (t % L == L - 1) flush(t + 1 - L, L, L);
                if (in_head) {
                    V::store(tp + t * L, prod);
                    // NaN never passes, so a lane with a NaN keeps its head to the end.
                    if (t % L == L - 1 && V::all_le(prod, threshold)) {
                        in_head = false;
                        head_rows = t + 1;
                    }
                }
            }
            double* swap = suffix;
            suffix = next;
            next = swap;
        }
        if (lc % L) flush(lc - lc % L, lc % L, L);

        // Carries: lane l + 1 starts where lane l ends.
        double* lane_prod = lanes;
        double* lane_end = lanes + L;
        double* lane_carry = lanes + 2 * L;
        V::store(lane_prod, prod);
        V::store(lane_end, ylocal);
        lane_carry[0] = 0.0;  // lane 0 needs no correction
        carry = lane_end[0];
        std::size_t broken = L;  // first lane whose carry is not finite
        for (std::size_t l = 1; l < L; ++l) {
            lane_carry[l] = carry;
            if (!__builtin_isfinite(carry) && broken == L) broken = l;
            carry = lane_prod[l] * carry + lane_end[l];
        }
        if (broken < L && !__builtin_isnan(lane_carry[broken])) {
            std::free(mem);  // an infinite price: leave it to the scalar kernel's order
            return kama_f64_scalar(x, n, first, prm, y);
        }

        // The heads: y += P * carry, lane by lane, in y's own layout.
        const reg carries = V::load(lane_carry);
        for (std::size_t t0 = 0; t0 < head_rows; t0 += L) {
            reg tile[L];
            for (std::size_t k = 0; k < L; ++k) tile[k] = V::mul(V::load(tp + (t0 + k) * L), carries);
            V::transpose(tile);
            for (std::size_t l = 1; l < broken; ++l) {
                const std::size_t to = sb + l * lc + t0;
                const std::size_t stop = min_size(min_size(to + L, sb + (l + 1) * lc), n);
                if (to + L == stop) {
                    V::store(y + to, V::add(V::load(y + to), tile[l]));
                } else {
                    V::store(lanes + 3 * L, tile[l]);
                    for (std::size_t k = 0; to + k < stop; ++k) y[to + k] += lanes[3 * L + k];
                }
            }
        }
        // From a NaN carry on, every output is NaN, as in the sequential recurrence.
        if (broken < L) {
            for (std::size_t i = sb + broken * lc; i < n; ++i) y[i] = __builtin_nan("");
            break;
        }
    }
    std::free(mem);
    return status_t::ok;
}

}  // namespace
}  // namespace kama
