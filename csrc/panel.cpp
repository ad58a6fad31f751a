// 2-D kama() with a SIMD kernel: series that share their first valid index run `lanes` at a
// time through the kernel's many-series variant (simd_rows.hpp); the others run one by one on
// the scalar kernel. Both do the scalar kernel's arithmetic, so every series equals
// kama(series, kernel="scalar") bit for bit, however the series are grouped or threaded.
#include <algorithm>
#include <cstdlib>

#include "common.hpp"
#include "dispatch.hpp"

namespace kama {

namespace {

// A unit of work: `count` series at order[at..at+count), `lanes` of them for a group (whose
// lanes below lane_lo belong to the group before it), 1 for a lone series.
struct unit_t {
    std::size_t at, lane_lo;
    bool group;
};

}  // namespace

bool panel_pays(std::size_t rows, std::size_t lanes, const params_t& prm) noexcept {
    return lanes > 1 && rows >= lanes && !prm.skip_nan && !copies_input(prm) && prm.period <= kama_rows_max_period;
}

bool run_panel(rows_fn many, std::size_t lanes, const double* x, std::size_t rows, std::size_t n,
               const std::size_t* firsts, const params_t& prm, std::size_t threads, double* y) noexcept {
    auto* order = static_cast<std::size_t*>(std::malloc(rows * sizeof(std::size_t)));
    auto* units = static_cast<unit_t*>(std::malloc(rows * sizeof(unit_t)));
    if (!order || !units) {
        std::free(order);
        std::free(units);
        return false;
    }
    for (std::size_t k = 0; k < rows; ++k) order[k] = k;
    std::sort(order, order + rows, [firsts](std::size_t a, std::size_t b) {
        return firsts[a] != firsts[b] ? firsts[a] < firsts[b] : a < b;
    });
    // Runs of series with one first index: whole groups, the last one overlapping the one
    // before it when the run is not a multiple of `lanes`; a shorter run, or one too short for
    // a recurrence step, goes series by series.
    std::size_t count = 0;
    for (std::size_t lo = 0, hi; lo < rows; lo = hi) {
        hi = lo;
        while (hi < rows && firsts[order[hi]] == firsts[order[lo]]) ++hi;
        const std::size_t m = hi - lo;
        if (m < lanes || firsts[order[lo]] + prm.period >= n) {
            for (std::size_t k = lo; k < hi; ++k) units[count++] = {k, 0, false};
            continue;
        }
        for (std::size_t g = 0; g * lanes < m; ++g) {
            const std::size_t at = (g + 1) * lanes <= m ? lo + g * lanes : hi - lanes;
            units[count++] = {at, lo + g * lanes - at, true};
        }
    }
    const bool ok = run_rows(count, workers_for(threads, count, rows * n), [&](std::size_t u) {
        const unit_t& unit = units[u];
        if (!unit.group) {
            const std::size_t k = order[unit.at];
            return run_series(kama_f64_scalar, x + k * n, n, firsts[k], prm, y + k * n) == status_t::ok;
        }
        const double* xs[8];
        double* ys[8];
        for (std::size_t l = 0; l < lanes; ++l) {
            xs[l] = x + order[unit.at + l] * n;
            ys[l] = y + order[unit.at + l] * n;
        }
        const std::size_t first = firsts[order[unit.at]];
        if (many(xs, ys, unit.lane_lo, n, first, prm) != status_t::ok) return false;
        for (std::size_t l = unit.lane_lo; l < lanes; ++l) mute_unstable(ys[l], n, first, prm);
        return true;
    });
    std::free(order);
    std::free(units);
    return ok;
}

}  // namespace kama
