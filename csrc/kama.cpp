// kama(): one series.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common.hpp"
#include "dispatch.hpp"

namespace kama {

extern const char kama_doc[] =
    "kama(data, period=30, kernel=None, *, fast=2, slow=30, compat='vectorta', unstable_period=0, nan_policy='propagate', out=None, axis=-1, threads=None)\n"
    "--\n\n"
    "Kaufman's Adaptive Moving Average of a price series, or of many: a 2-D array holds one\n"
    "series per row (axis=-1) or per column (axis=0), and the result has its shape.\n\n"
    "data: anything numpy.asarray turns into real numbers (float64 contiguous is used without\n"
    "a copy). period: the efficiency-ratio window. kernel: None/'auto', 'scalar', 'avx2',\n"
    "'avx512' (or the VectorTA aliases '*_batch'); KAMA_KERNEL sets the default.\n"
    "fast, slow: the smoothing constants' periods, 2/(fast+1) and 2/(slow+1).\n"
    "compat: 'vectorta' (VectorTA: seed with the price itself), 'talib' (TA-Lib's TA_KAMA),\n"
    "'tulipy' (Tulip Indicators: TA-Lib's values with the seed in front) or 'pandas_ta'\n"
    "(pandas-ta: seeded with the mean of the first `period` prices).\n"
    "unstable_period: also NaN for the first N outputs, as TA-Lib's set_unstable_period.\n"
    "nan_policy: 'propagate' (a NaN after the first value makes every later one NaN) or 'skip'\n"
    "(a NaN bar gives NaN and is left out: the other bars get the values of the series without it).\n"
    "out: a writable float64 array of the same shape to fill and return.\n"
    "threads: None uses every core when the work is large enough to pay; 1 stays on the calling\n"
    "thread. A long series split over threads agrees to rounding with threads=1; many series\n"
    "are shared out whole and never change with threads. With a SIMD kernel, series that start\n"
    "on the same bar run side by side on the scalar kernel's arithmetic (each equals\n"
    "kama(series, kernel='scalar') bit for bit); fewer than a vector's lanes of them (8 with\n"
    "AVX-512, 4 with AVX2), nan_policy='skip' or a period over 65536 run one by one on the\n"
    "kernel given.\n\n"
    "Returns a float64 array; NaN during the warm-up of `period` bars after the leading NaNs\n"
    "(period - 1 bars in the tulipy and pandas_ta modes, which output their seed).\n\n"
    ">>> import kama\n"
    ">>> kama.kama([1.0, 2.0, 3.0, 2.0, 4.0], period=2).round(6).tolist()\n"
    "[nan, nan, 3.0, 2.995838, 3.066479]\n";

namespace {

const char* const kama_names[] = {"data", "period", "kernel", "fast", "slow", "compat", "out", "axis",
                                  "threads", "unstable_period", "nan_policy", nullptr};
arg_parser kama_args{"kama()", kama_names, 3, 1};

// out= must be a writable float64 ndarray of the data's shape; its dtype and flags are
// checked before the computation, its shape once the data is converted.
bool check_out(PyObject* out) {
    if (!PyArray_Check(out)) {
        py_ptr tn(type_name(out));
        PyErr_Format(PyExc_TypeError, "kama: out must be a numpy.ndarray, not %V", tn.get(), "?");
        return false;
    }
    auto* a = reinterpret_cast<PyArrayObject*>(out);
    if (PyArray_TYPE(a) != NPY_DOUBLE || !PyArray_ISNOTSWAPPED(a)) {
        PyErr_Format(PyExc_TypeError, "kama: out must have dtype float64 (native byte order), got %R",
                     reinterpret_cast<PyObject*>(PyArray_DESCR(a)));
        return false;
    }
    if (!PyArray_ISWRITEABLE(a)) {
        PyErr_SetString(PyExc_ValueError, "kama: out is read-only");
        return false;
    }
    return true;
}

bool overlaps(const double* x, std::size_t n, PyArrayObject* out) {
    auto* lo = static_cast<const char*>(PyArray_DATA(out));
    npy_intp stride = PyArray_STRIDE(out, 0), len = PyArray_DIM(out, 0);
    const char* hi = lo + (len ? (len - 1) * stride : 0);
    if (stride < 0) std::swap(lo, hi);
    hi += sizeof(double);
    auto* xl = reinterpret_cast<const char*>(x);
    return lo < xl + n * sizeof(double) && xl < hi;
}

// kama() for `rows` series of n values, the rows of x (one series for 1-D data, nd == 1).
// Each series is validated as SPEC 5 says and computed by `kernel`. A lone series may be split
// over threads and written straight into a contiguous out=; many are shared out whole across
// threads (side by side through run_panel when the kernel has a many-series variant, else each
// equal to its own 1-D call with threads=1) and reach out= through a buffer,
// so that out= is never half-written. The result has the data's shape: (n,), (rows, n), or
// (n, rows) as a transposed view when the series ran along axis 0.
PyObject* compute(const double* x, std::size_t rows, std::size_t n, int nd, int axis, kernel_fn kernel,
                  const period_arg& period, params_t prm, PyArrayObject* out) {
    const npy_intp shape[2] = {static_cast<npy_intp>(nd == 1 || axis == 1 ? rows : n),
                               static_cast<npy_intp>(nd == 1 || axis == 1 ? n : rows)};
    const npy_intp* want = nd == 1 ? shape + 1 : shape;
    if (out && (PyArray_NDIM(out) != nd || PyArray_DIM(out, 0) != want[0] ||
                (nd == 2 && PyArray_DIM(out, 1) != want[1]))) {
        if (nd == 1) {
            PyErr_Format(PyExc_ValueError, "kama: out must have the data's shape (%zd,)",
                         static_cast<Py_ssize_t>(n));
        } else {
            PyErr_Format(PyExc_ValueError, "kama: out must have the data's shape (%zd, %zd)",
                         static_cast<Py_ssize_t>(want[0]), static_cast<Py_ssize_t>(want[1]));
        }
        return nullptr;
    }
    const bool direct = nd == 1 && out && PyArray_ISCARRAY(out) && !overlaps(x, n, out);
    const std::size_t workers = nd == 1 ? 1 : workers_for(prm.threads, rows, rows * n);
    const std::size_t threads = prm.threads;
    if (nd == 2) prm.threads = 1;  // threads go across series
    prm.period = static_cast<std::size_t>(period.value);
    // What could not be allocated, if anything: the per-series first indices, the result, or
    // a kernel's scratch.
    enum class short_of { nothing, firsts, result, scratch } missing = short_of::nothing;
    double* buffer = nullptr;
    std::atomic<std::size_t> packed_short{SIZE_MAX};  // a series whose NaN-free copy did not fit
    std::size_t first_one = 0, bad = 0;
    std::size_t* firsts = &first_one;
    data_error err = data_error::none;
    {
        gil_release nogil;
        if (rows > 1 && !(firsts = static_cast<std::size_t*>(std::malloc(rows * sizeof(std::size_t)))))
            missing = short_of::firsts;
        for (std::size_t k = 0; k < rows && err == data_error::none && missing == short_of::nothing; ++k) {
            firsts[k] = first_valid(x + k * n, n);
            err = check_series(n, valid_start(x + k * n, n, firsts[k], prm), period, prm.compat);
            bad = k;
        }
        double* y = nullptr;
        if (err == data_error::none && missing == short_of::nothing) {
            y = direct ? static_cast<double*>(PyArray_DATA(out))
                       : (buffer = static_cast<double*>(alloc_buffer(rows * n)));
            if (!y) missing = short_of::result;
        }
        std::size_t lanes = 0;
        const rows_fn many = nd == 2 ? rows_kernel_for(kernel, &lanes) : nullptr;
        if (y && many && panel_pays(rows, lanes, prm)) {
            if (!run_panel(kernel, many, lanes, x, rows, n, firsts, prm, threads, y)) missing = short_of::scratch;
        } else if (y && !run_rows(rows, workers, [&](std::size_t k) {
                       const status_t st = run_series(kernel, x + k * n, n, firsts[k], prm, y + k * n);
                       if (st == status_t::no_packed_memory) packed_short.store(k, std::memory_order_relaxed);
                       return st == status_t::ok;
                   })) {
            missing = short_of::scratch;
        }
        if (y && missing == short_of::nothing && out && !direct) {  // series k is out's row or column k
            char* base = static_cast<char*>(PyArray_DATA(out));
            const npy_intp s_series = nd == 1 ? 0 : PyArray_STRIDE(out, axis == 1 ? 0 : 1);
            const npy_intp s_time = PyArray_STRIDE(out, nd == 1 || axis == 1 ? nd - 1 : 0);
            for (std::size_t k = 0; k < rows; ++k) {
                char* row = base + static_cast<npy_intp>(k) * s_series;
                if (s_time == sizeof(double)) {  // a contiguous row of out
                    std::memcpy(row, y + k * n, n * sizeof(double));
                    continue;
                }
                for (std::size_t t = 0; t < n; ++t)
                    std::memcpy(row + static_cast<npy_intp>(t) * s_time, y + k * n + t, sizeof(double));
            }
        }
    }
    const std::size_t bad_first = err != data_error::none ? valid_start(x + bad * n, n, firsts[bad], prm) : 0;
    if (firsts != &first_one) std::free(firsts);
    if (err != data_error::none || missing != short_of::nothing) {
        free_buffer(buffer);
        const std::size_t dims[2] = {static_cast<std::size_t>(want[0]), static_cast<std::size_t>(nd == 2 ? want[1] : 0)};
        if (missing == short_of::firsts) {
            raise_no_memory("kama", static_cast<double>(rows) * sizeof(std::size_t), "the series' first indices");
        } else if (missing == short_of::result) {
            raise_array_no_memory("kama", nd, dims);
        } else if (missing == short_of::scratch && packed_short.load() != SIZE_MAX) {
            const std::size_t k = packed_short.load();
            raise_packed_no_memory("kama", count_valid(x + k * n + firsts[k], n - firsts[k]));
        } else if (missing == short_of::scratch) {
            raise_scratch_no_memory("kama", period.value);
        } else if (nd == 1) {
            raise_data_error(err, "kama", n, bad_first, period, prm.compat);
        } else {
            char where[64];
            std::snprintf(where, sizeof(where), "kama (series %zu)", bad);
            raise_data_error(err, where, n, bad_first, period, prm.compat);
        }
        return nullptr;
    }
    if (out) {
        free_buffer(buffer);
        Py_INCREF(out);
        return reinterpret_cast<PyObject*>(out);
    }
    const npy_intp dims[2] = {static_cast<npy_intp>(nd == 1 ? n : rows), static_cast<npy_intp>(n)};
    py_ptr result(wrap_buffer(buffer, nd, dims));
    if (!result || nd == 1 || axis == 1) return result.release();
    return PyArray_Transpose(reinterpret_cast<PyArrayObject*>(result.get()), nullptr);
}

}  // namespace

PyObject* py_kama(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* a[11];
    if (!kama_args.parse(args, nargs, kwnames, a)) return nullptr;
    period_arg period;
    if (!parse_period(a[1], &period)) return nullptr;
    kernel_fn kernel;
    if (!parse_kernel(a[2], &kernel)) return nullptr;
    params_t prm;
    if (!parse_smoothing("kama", a[3], a[4], &prm) || !parse_compat("kama", a[5], &prm.compat) ||
        !parse_threads("kama", a[8], &prm.threads) || !parse_unstable("kama", a[9], &prm.unstable) ||
        !parse_nan_policy("kama", a[10], &prm.skip_nan))
        return nullptr;
    Py_ssize_t axis = -1;
    if (a[7] && !as_ssize(a[7], "axis", &axis)) return nullptr;
    PyArrayObject* out = nullptr;
    if (a[6] && a[6] != Py_None) {
        if (!check_out(a[6])) return nullptr;
        out = reinterpret_cast<PyArrayObject*>(a[6]);
    }
    // A pandas or polars object, once the options are known good (so that their errors come
    // first, as for an ndarray), goes to the Python glue.
    if (!PyArray_Check(a[0]) && is_frame(a[0])) return call_frames("kama", nullptr, args, nargs, kwnames);
    bool two_d;
    py_ptr xobj(reinterpret_cast<PyObject*>(as_f64_series(a[0], "kama", &axis, &two_d)));
    if (!xobj) return nullptr;
    auto* xarr = reinterpret_cast<PyArrayObject*>(xobj.get());
    const auto* x = static_cast<const double*>(PyArray_DATA(xarr));
    if (!two_d) return compute(x, 1, static_cast<std::size_t>(PyArray_DIM(xarr, 0)), 1, 0, kernel, period, prm, out);
    return compute(x, static_cast<std::size_t>(PyArray_DIM(xarr, 0)), static_cast<std::size_t>(PyArray_DIM(xarr, 1)),
                   2, static_cast<int>(axis), kernel, period, prm, out);
}

}  // namespace kama
