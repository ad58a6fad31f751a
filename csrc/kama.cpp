// kama(): one series.
#include <cstring>

#include "common.hpp"

namespace kama {

extern const char kama_doc[] =
    "kama(data, period=30, kernel=None, *, fast=2, slow=30, compat='vectorta', out=None, threads=None)\n"
    "--\n\n"
    "Kaufman's Adaptive Moving Average of a 1-D price series.\n\n"
    "data: anything numpy.asarray turns into real numbers (float64 contiguous is used without\n"
    "a copy). period: the efficiency-ratio window. kernel: None/'auto', 'scalar', 'avx2',\n"
    "'avx512' (or the VectorTA aliases '*_batch'); KAMA_KERNEL sets the default.\n"
    "fast, slow: the smoothing constants' periods, 2/(fast+1) and 2/(slow+1).\n"
    "compat: 'vectorta' (seed with the price itself) or 'talib' (TA-Lib's TA_KAMA).\n"
    "out: a writable float64 array of the same shape to fill and return.\n"
    "threads: None uses every core for a series long enough to pay; 1 stays on the calling\n"
    "thread. Results of different thread counts agree to rounding, not bit for bit.\n\n"
    "Returns a float64 array; NaN during the warm-up of `period` bars after the leading NaNs.\n\n"
    ">>> import kama\n"
    ">>> kama.kama([1.0, 2.0, 3.0, 2.0, 4.0], period=2).round(6).tolist()\n"
    "[nan, nan, 3.0, 2.995838, 3.066479]\n";

namespace {

const char* const kama_names[] = {"data", "period", "kernel", "fast", "slow", "compat", "out", "threads", nullptr};
arg_parser kama_args{"kama()", kama_names, 3, 1};

// out= must be a writable float64 ndarray of the data's shape; its dtype and flags are
// checked before the computation, its shape once the data is converted.
bool check_out(PyObject* out) {
    if (!PyArray_Check(out)) {
        PyErr_Format(PyExc_TypeError, "kama: out must be a numpy.ndarray, not %s", Py_TYPE(out)->tp_name);
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

}  // namespace

PyObject* py_kama(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* a[8];
    if (!kama_args.parse(args, nargs, kwnames, a)) return nullptr;
    Py_ssize_t period = 30;
    if (a[1] && !as_ssize(a[1], "period", &period)) return nullptr;
    kernel_fn kernel;
    if (!parse_kernel(a[2], &kernel)) return nullptr;
    params_t prm;
    if (!parse_smoothing("kama", a[3], a[4], &prm) || !parse_compat("kama", a[5], &prm.compat) ||
        !parse_threads("kama", a[7], &prm.threads))
        return nullptr;
    PyArrayObject* out = nullptr;
    if (a[6] && a[6] != Py_None) {
        if (!check_out(a[6])) return nullptr;
        out = reinterpret_cast<PyArrayObject*>(a[6]);
    }
    py_ptr xobj(reinterpret_cast<PyObject*>(as_f64_vector(a[0], "kama")));
    if (!xobj) return nullptr;
    auto* xarr = reinterpret_cast<PyArrayObject*>(xobj.get());
    const auto n = static_cast<std::size_t>(PyArray_DIM(xarr, 0));
    const auto* x = static_cast<const double*>(PyArray_DATA(xarr));
    if (out && (PyArray_NDIM(out) != 1 || static_cast<std::size_t>(PyArray_DIM(out, 0)) != n)) {
        PyErr_Format(PyExc_ValueError, "kama: out has shape of %d dimensions and %zd elements; "
                     "expected (%zu,)", PyArray_NDIM(out), PyArray_SIZE(out), n);
        return nullptr;
    }
    // The kernel writes straight into out= when it can; otherwise into a buffer copied after.
    const bool direct = out && PyArray_ISCARRAY(out) && !overlaps(x, n, out);
    prm.period = static_cast<std::size_t>(period);
    double* buffer = nullptr;
    std::size_t first = 0;
    data_error err;
    {
        gil_release nogil;
        first = first_valid(x, n);
        err = check_series(n, first, period, prm.compat);
        if (err == data_error::none) {
            double* y = direct ? static_cast<double*>(PyArray_DATA(out))
                               : (buffer = static_cast<double*>(alloc_buffer(n)));
            if (!y || kernel(x, n, first, prm, y) != status_t::ok) {
                err = data_error::no_memory;
            } else if (out && !direct) {
                char* dst = static_cast<char*>(PyArray_DATA(out));
                const npy_intp stride = PyArray_STRIDE(out, 0);
                for (npy_intp i = 0; i < static_cast<npy_intp>(n); ++i) std::memcpy(dst + i * stride, buffer + i, sizeof(double));
            }
        }
    }
    if (err != data_error::none) {
        free_buffer(buffer);
        raise_data_error(err, "kama", n, first, period);
        return nullptr;
    }
    if (out) {
        free_buffer(buffer);
        Py_INCREF(out);
        return reinterpret_cast<PyObject*>(out);
    }
    const npy_intp dims[1] = {static_cast<npy_intp>(n)};
    return wrap_buffer(buffer, 1, dims);
}

}  // namespace kama
