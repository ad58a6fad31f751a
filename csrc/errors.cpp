// Validation of a series (SPEC §5) and the exceptions kama raises for data and memory.
#include <cmath>
#include <cstdio>

#include "common.hpp"

namespace kama {

data_error check_series(std::size_t n, std::size_t first, const period_arg& period, compat_t compat) noexcept {
    // TA-Lib's mode takes any data: empty, all-NaN or short input gives an empty or all-NaN
    // result, as talib.KAMA does (SPEC §1); only the period is checked.
    if (compat != compat_t::talib) {
        if (n == 0) return data_error::empty;
        if (first >= n) return data_error::all_nan;
    }
    if (period.value < 1 || !period.exact()) return data_error::invalid_period;
    if (compat != compat_t::talib) {
        const auto p = static_cast<std::size_t>(period.value);
        if (p > n) return data_error::invalid_period;
        // period + 1 valid values for VectorTA's first output; period for a mode's seed.
        if (n - first < (compat == compat_t::vectorta ? p + 1 : p)) return data_error::not_enough;
    }
    return data_error::none;
}

void raise_data_error(data_error e, const char* fname, std::size_t n, std::size_t first,
                      const period_arg& period, compat_t compat) {
    switch (e) {
        case data_error::none:
        case data_error::no_memory:
            break;
        case data_error::empty:
            PyErr_Format(PyExc_ValueError, "%s: Input data slice is empty.", fname);
            break;
        case data_error::all_nan:
            PyErr_Format(PyExc_ValueError, "%s: All values are NaN.", fname);
            break;
        case data_error::invalid_period: {
            py_ptr text(quote_int(period.inexact, period.value));
            if (text)
                PyErr_Format(PyExc_ValueError, "%s: Invalid period: period = %U, data length = %zu",
                             fname, text.get(), n);
            break;
        }
        case data_error::not_enough:
            PyErr_Format(PyExc_ValueError, "%s: Not enough valid data: needed = %zu, valid = %zu",
                         fname, static_cast<std::size_t>(period.value) + (compat == compat_t::vectorta ? 1 : 0),
                         n - first);
            break;
    }
}

namespace {

// A byte count as NumPy words it: "512 bytes", "7.63 MiB", "7.28 TiB" (binary units, three
// significant figures).
void format_bytes(double bytes, char* buf, std::size_t size) {
    static const char* const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    constexpr int last = 6;
    int unit = 0;
    double value = bytes;
    while (unit < last && std::round(value) >= 1024.0) {
        value /= 1024.0;
        ++unit;
    }
    if (unit == 0) {
        std::snprintf(buf, size, "%.0f bytes", value);
    } else if (std::round(value) < 1000.0) {
        std::snprintf(buf, size, "%#.3g %s", value, units[unit]);
    } else {
        std::snprintf(buf, size, "%#.0f %s", value, units[unit]);
    }
}

}  // namespace

void raise_no_memory(const char* fname, double bytes, const char* what) {
    char size[64];
    format_bytes(bytes, size, sizeof(size));
    PyErr_Format(PyExc_MemoryError, "%s: Unable to allocate %s for %s", fname, size, what);
}

void raise_array_no_memory(const char* fname, int nd, const std::size_t* dims, const char* dtype) {
    char what[160];
    int at = std::snprintf(what, sizeof(what), "an array with shape (");
    double count = 1.0;
    for (int k = 0; k < nd; ++k) {
        at += std::snprintf(what + at, sizeof(what) - static_cast<std::size_t>(at), "%s%zu", k ? ", " : "", dims[k]);
        count *= static_cast<double>(dims[k]);
    }
    std::snprintf(what + at, sizeof(what) - static_cast<std::size_t>(at), "%s) and data type %s",
                  nd == 1 ? "," : "", dtype);
    raise_no_memory(fname, count * 8.0, what);
}

void raise_packed_no_memory(const char* fname, std::size_t valid) {
    raise_no_memory(fname, 16.0 * static_cast<double>(valid), "the series without its missing values (nan_policy='skip')");
}

void raise_scratch_no_memory(const char* fname, Py_ssize_t period) {
    PyErr_Format(PyExc_MemoryError, "%s: Unable to allocate the kernel's scratch memory for period %zd",
                 fname, period);
}

}  // namespace kama
