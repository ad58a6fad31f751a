// Many rows at once with a SIMD kernel. 2-D kama(): series that share their first valid index
// run `lanes` at a time through the kernel's many-series variant (simd_rows.hpp). kama_batch:
// periods run `lanes` at a time through its many-period variant (simd_sweep.hpp). Both do the
// scalar kernel's arithmetic, so every row run in a group equals its kama(..., kernel="scalar")
// bit for bit, however the rows are grouped or threaded. The rows left over run one by one: a
// series on the kernel given (its own 1-D call with threads=1), a period on the scalar kernel
// (so that every row of a sweep is the scalar kernel's).
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "common.hpp"
#include "dispatch.hpp"

namespace kama {

namespace {

// A unit of work: the rows at order[at..at+lanes) for a group (whose lanes below lane_lo belong
// to the group before it), the row at order[at] alone otherwise; `series` for a sweep.
struct unit_t {
    std::size_t at, lane_lo;
    bool group;
    std::size_t series = 0;
};

// Units for the sorted rows order[lo..hi) that a group may take: whole groups, the last one
// overlapping the one before it when the count is not a multiple of `lanes`; all alone when
// there are fewer than `lanes`. Returns the new count.
std::size_t add_units(unit_t* units, std::size_t count, std::size_t lo, std::size_t hi, std::size_t lanes,
                      std::size_t series) {
    const std::size_t m = hi - lo;
    if (m < lanes) {
        for (std::size_t k = lo; k < hi; ++k) units[count++] = {k, 0, false, series};
        return count;
    }
    for (std::size_t g = 0; g * lanes < m; ++g) {
        const std::size_t at = (g + 1) * lanes <= m ? lo + g * lanes : hi - lanes;
        units[count++] = {at, lo + g * lanes - at, true, series};
    }
    return count;
}

}  // namespace

bool panel_pays(std::size_t rows, std::size_t lanes, const params_t& prm) noexcept {
    return lanes > 1 && rows >= lanes && !prm.skip_nan && !copies_input(prm) && prm.period <= kama_rows_max_period;
}

bool run_panel(kernel_fn kernel, rows_fn many, std::size_t lanes, const double* x, std::size_t rows, std::size_t n,
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
        const bool steps = firsts[order[lo]] + prm.period < n;  // a recurrence step to run
        count = add_units(units, count, lo, steps ? hi : lo, lanes, 0);
        for (std::size_t k = steps ? hi : lo; k < hi; ++k) units[count++] = {k, 0, false};
    }
    params_t many_prm = prm;
    many_prm.stream = rows * n >= stream_values;
    const bool ok = run_rows(count, workers_for(threads, count, rows * n), [&](std::size_t u) {
        const unit_t& unit = units[u];
        if (!unit.group) {
            const std::size_t k = order[unit.at];
            return run_series(kernel, x + k * n, n, firsts[k], prm, y + k * n) == status_t::ok;
        }
        const double* xs[8];
        double* ys[8];
        for (std::size_t l = 0; l < lanes; ++l) {
            xs[l] = x + order[unit.at + l] * n;
            ys[l] = y + order[unit.at + l] * n;
        }
        const std::size_t first = firsts[order[unit.at]];
        if (many(xs, ys, unit.lane_lo, n, first, many_prm) != status_t::ok) return false;
        for (std::size_t l = unit.lane_lo; l < lanes; ++l) mute_unstable(ys[l], n, first, prm);
        return true;
    });
    std::free(order);
    std::free(units);
    return ok;
}

bool sweep_pays(std::size_t rows, std::size_t lanes, const params_t& prm) noexcept {
    return lanes > 1 && rows >= lanes && !prm.skip_nan;
}

bool run_sweeps(sweep_fn many, std::size_t lanes, const double* x, std::size_t series, std::size_t n,
                const std::size_t* firsts, const std::uint64_t* periods, std::size_t rows, const params_t& prm,
                std::size_t threads, double* values) noexcept {
    // Every series has the same plan but for where its groupable run ends (hi[j]): the units
    // are decoded from per-series offsets, so scratch is O(rows + series), not O(rows * series).
    auto* order = static_cast<std::size_t*>(std::malloc(rows * sizeof(std::size_t)));
    auto* hi = static_cast<std::size_t*>(std::malloc(series * sizeof(std::size_t)));
    auto* offsets = static_cast<std::size_t*>(std::malloc((series + 1) * sizeof(std::size_t)));
    if (!order || !hi || !offsets) {
        std::free(order);
        std::free(hi);
        std::free(offsets);
        return false;
    }
    for (std::size_t k = 0; k < rows; ++k) order[k] = k;
    std::sort(order, order + rows, [periods](std::size_t a, std::size_t b) {
        return periods[a] != periods[b] ? periods[a] < periods[b] : a < b;
    });
    // The periods a group may take form one run of the sorted order, order[lo..hi[j]): past
    // TA-Lib's copy for period 1, with a recurrence step before n, at most kama_rows_max_period.
    std::size_t lo = 0;
    params_t copy = prm;
    while (lo < rows && (copy.period = static_cast<std::size_t>(periods[order[lo]]), copies_input(copy))) ++lo;
    auto groups_in = [lanes](std::size_t m) { return m < lanes ? m : (m + lanes - 1) / lanes; };
    offsets[0] = 0;
    for (std::size_t j = 0; j < series; ++j) {
        std::size_t h = lo;
        for (; h < rows; ++h) {
            const std::uint64_t p = periods[order[h]];
            if (p > kama_rows_max_period || firsts[j] + p >= n) break;
        }
        hi[j] = h;
        offsets[j + 1] = offsets[j] + lo + groups_in(h - lo) + (rows - h);
    }
    // Unit u of the plan: series j, then the rows below lo alone, the groups (or, when the run
    // is shorter than a group, its rows alone), the rows from hi[j] alone.
    auto unit_at = [&](std::size_t u) {
        const std::size_t j = static_cast<std::size_t>(std::upper_bound(offsets, offsets + series + 1, u) - offsets) - 1;
        std::size_t v = u - offsets[j];
        if (v < lo) return unit_t{v, 0, false, j};
        v -= lo;
        const std::size_t m = hi[j] - lo, g = groups_in(m);
        if (v >= g) return unit_t{hi[j] + (v - g), 0, false, j};
        if (m < lanes) return unit_t{lo + v, 0, false, j};
        const std::size_t at = (v + 1) * lanes <= m ? lo + v * lanes : hi[j] - lanes;
        return unit_t{at, lo + v * lanes - at, true, j};
    };
    const std::size_t count = offsets[series];
    const std::size_t values_total = series * rows;  // the caller's task count: it fits
    params_t many_prm = prm;
    many_prm.stream = values_total * n >= stream_values;
    const bool ok = run_rows(count, workers_for(threads, count, values_total * n), [&](std::size_t u) {
        const unit_t unit = unit_at(u);
        const std::size_t j = unit.series;
        const double* xj = x + j * n;
        params_t row = prm;
        if (!unit.group) {
            const std::size_t k = order[unit.at];
            row.period = static_cast<std::size_t>(periods[k]);
            return run_series(kama_f64_scalar, xj, n, firsts[j], row, values + (j * rows + k) * n) == status_t::ok;
        }
        std::size_t ps[8];
        double* ys[8];
        for (std::size_t l = 0; l < lanes; ++l) {
            const std::size_t k = order[unit.at + l];
            ps[l] = static_cast<std::size_t>(periods[k]);
            ys[l] = values + (j * rows + k) * n;
        }
        if (many(xj, n, firsts[j], ps, ys, unit.lane_lo, many_prm) != status_t::ok) return false;
        for (std::size_t l = unit.lane_lo; l < lanes; ++l) {
            row.period = ps[l];
            mute_unstable(ys[l], n, firsts[j], row);
        }
        return true;
    });
    std::free(order);
    std::free(hi);
    std::free(offsets);
    return ok;
}

}  // namespace kama
