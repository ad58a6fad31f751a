// The SIMD kernel, written once over a vector type V (V::L lanes of double) and compiled per
// instruction set by avx2.cpp and avx512.cpp under their target pragmas. Everything here lives
// in an unnamed namespace: each ISA's file gets its own copy, so no AVX code can be merged into
// a function the scalar path calls (no ODR folding across targets). Nothing from the standard
// library is instantiated here for the same reason.
//
// KAMA's recurrence y_i = (1 - c_i) y_{i-1} + c_i x_i is an affine scan y_i = a_i y_{i-1} + b_i,
// and c_i depends on the prices only. So the outputs are cut into L chunks that run side by
// side, one per lane, on data transposed so that a lane's next value sits in the next vector:
//   pass 1: each lane computes its a_i, b_i (the same volatility arithmetic as the scalar kernel:
//           suffix sums of the current block plus a running prefix of the next, never a running
//           difference) and scans y from 0 while keeping the product A of its a_i;
//   carry:  lane l starts from carry_l, and carry_{l+1} = A_l carry_l + (lane l's local end);
//   pass 2: every lane scans again from its carry, writing y.
// A superblock of L chunks at a time keeps the transposed data in cache.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "kernels.hpp"

namespace kama {
namespace {

constexpr std::size_t simd_chunk_target = 512;  // outputs per lane and superblock, rounded to p

inline std::size_t round_up(std::size_t v, std::size_t m) { return (v + m - 1) / m * m; }
inline std::size_t min_size(std::size_t a, std::size_t b) { return a < b ? a : b; }

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

    const std::size_t chunk = p * ((simd_chunk_target + p - 1) / p);  // a whole number of blocks
    const std::size_t in_rows = round_up(p + chunk, L);  // x from s_l - p on
    const std::size_t out_rows = round_up(chunk, L);
    const std::size_t doubles = (in_rows + 2 * out_rows + 2 * p + 4) * L;
    void* mem = nullptr;
    if (posix_memalign(&mem, 64, doubles * sizeof(double)) != 0) return status_t::no_memory;
    std::memset(mem, 0, doubles * sizeof(double));  // pad rows are read (and dropped) too
    double* const tx = static_cast<double*>(mem);  // tx[j*L + l] = x[s_l - p + j]
    double* const ta = tx + in_rows * L;            // a_i = 1 - c_i
    double* const tb = ta + out_rows * L;           // b_i = c_i x_i
    double* suffix = tb + out_rows * L;             // suffix sums, current and next block
    double* next = suffix + p * L;
    double* const lanes = next + p * L;             // 4 * L scratch for carries and tiles

    for (std::size_t i = 0; i < start; ++i) y[i] = __builtin_nan("");
    const reg diff = V::set1(prm.fsc - prm.ssc), ssc = V::set1(prm.ssc), one = V::set1(1.0);
    // The value before the first output: TA-Lib's seed. VectorTA's seed is the first output
    // itself, made by c = 1 (a = 0, b = x[start]) below.
    double carry = C == compat_t::talib ? x[start - 1] : 0.0;

    for (std::size_t sb = start; sb < n; sb += L * chunk) {
        // The last superblock shrinks its chunks; lanes past the end read the last price and
        // their outputs are dropped.
        const std::size_t lc = min_size(chunk, p * ((n - sb + L * p - 1) / (L * p)));
        const std::size_t rows = p + lc;

        // Transpose in: tiles of L rows from each lane's stretch of x.
        // Lane l reads x from sb + l*lc - p (>= first); only the tiles that reach past the end
        // of x (last superblock) take the slow path that repeats the last price.
        const double* const x0 = x + sb - p;
        const std::size_t fast_rows = n + p - sb >= (L - 1) * lc + L ? n + p - sb - (L - 1) * lc - L + 1 : 0;
        for (std::size_t j0 = 0; j0 < rows; j0 += L) {
            reg tile[L];
            if (j0 < fast_rows) {
                for (std::size_t l = 0; l < L; ++l) tile[l] = V::load(x0 + l * lc + j0);
            } else {
                for (std::size_t l = 0; l < L; ++l) {
                    double* row = lanes;
                    const std::size_t from = sb + l * lc - p + j0;
                    for (std::size_t k = 0; k < L; ++k) row[k] = x[min_size(from + k, n - 1)];
                    tile[l] = V::load(row);
                }
            }
            V::transpose(tile);
            for (std::size_t k = 0; k < L; ++k) V::store(tx + (j0 + k) * L, tile[k]);
        }
        auto X = [tx](std::size_t row) { return V::load(tx + row * L); };
        // The move ending at a row. Recomputed where needed: stores, not arithmetic, bound this
        // kernel, so nothing that can be derived from x is kept.
        auto M = [tx](std::size_t row) { return V::abs(V::sub(V::load(tx + row * L), V::load(tx + (row - 1) * L))); };

        // Suffix sums of each lane's first block: moves ending at rows 1..p.
        reg tail = V::zero();
        for (std::size_t o = p; o-- > 0;) {
            tail = V::add(M(o + 1), tail);
            V::store(suffix + o * L, tail);
        }

        // Pass 1: c_i, and each lane's scan from 0 with the product of its a_i.
        reg ylocal = V::zero(), prod = one;
        const std::size_t blocks = lc / p;
        for (std::size_t blk = 0; blk < blocks; ++blk) {
            const std::size_t i0 = p + blk * p;  // row of the block's first output
            const bool has_next = blk + 1 < blocks;
            reg prefix = V::zero();
            tail = V::zero();
            for (std::size_t r = 0; r < p; ++r) {
                const std::size_t row = i0 + r;
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
                if (C == compat_t::vectorta && sb == start && row == p)
                    c = V::first_lane_one(c);  // the seed: y[start] = x[start]
                const reg a = V::sub(one, c), b = V::mul(c, xv);
                V::store(ta + (row - p) * L, a);
                V::store(tb + (row - p) * L, b);
                ylocal = V::fmadd(a, ylocal, b);
                prod = V::mul(prod, a);
            }
            double* swap = suffix;
            suffix = next;
            next = swap;
        }

        // Carries from lane to lane.
        double* lane_prod = lanes;
        double* lane_end = lanes + L;
        double* lane_carry = lanes + 2 * L;
        V::store(lane_prod, prod);
        V::store(lane_end, ylocal);
        for (std::size_t l = 0; l < L; ++l) {
            lane_carry[l] = carry;
            carry = lane_prod[l] * carry + lane_end[l];
        }

        // Pass 2: every lane scans from its carry; each tile of L steps is transposed back
        // and stored while the next tile's chain runs.
        reg yv = V::load(lane_carry);
        for (std::size_t t0 = 0; t0 < lc; t0 += L) {
            reg tile[L];
            for (std::size_t k = 0; k < L; ++k) {
                yv = V::fmadd(V::load(ta + (t0 + k) * L), yv, V::load(tb + (t0 + k) * L));
                tile[k] = yv;
            }
            V::transpose(tile);
            if (t0 + L <= lc && sb + (L - 1) * lc + t0 + L <= n) {  // every lane's tile is whole
                for (std::size_t l = 0; l < L; ++l) V::store(y + sb + l * lc + t0, tile[l]);
                continue;
            }
            for (std::size_t l = 0; l < L; ++l) {
                const std::size_t to = sb + l * lc + t0;
                const std::size_t lane_stop = min_size(sb + (l + 1) * lc, n);
                if (to + L <= lane_stop) {
                    V::store(y + to, tile[l]);
                } else if (to < lane_stop) {
                    double* row = lanes + 3 * L;
                    V::store(row, tile[l]);
                    for (std::size_t k = 0; to + k < lane_stop; ++k) y[to + k] = row[k];
                }
            }
        }
    }
    std::free(mem);
    return status_t::ok;
}

}  // namespace
}  // namespace kama
