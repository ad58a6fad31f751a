// kama_batch(): one series, many periods; rows of a (rows, n) array.
#include <cstdint>
#include <vector>

#include "common.hpp"

namespace kama {

extern const char kama_batch_doc[] =
    "kama_batch(data, period_range=(30, 30, 0), kernel=None, *, periods=None, fast=2, slow=30, "
    "compat='vectorta', threads=None)\n"
    "--\n\n"
    "KAMA of one series for many periods.\n\n"
    "period_range=(start, end, step): step == 0 or start == end gives one row; otherwise rows\n"
    "ascend from start by step up to and including end. periods=[...] gives the rows in the\n"
    "order given instead.\n\n"
    "Returns {'values': float64 array (rows, len(data)), 'periods': int64 array (rows,)}; row k\n"
    "equals kama(data, periods[k], ..., threads=1) bit for bit. threads: None spreads the rows\n"
    "over every core when the sweep is large enough, 1 stays on the calling thread.\n\n"
    ">>> import kama\n"
    ">>> kama.kama_batch([1.0, 2.0, 3.0, 2.0, 4.0], (1, 3, 1))['periods'].tolist()\n"
    "[1, 2, 3]\n";

namespace {

const char* const batch_names[] = {"data", "period_range", "kernel", "periods", "fast", "slow",
                                   "compat", "threads", nullptr};
arg_parser batch_args{"kama_batch()", batch_names, 3, 1};

bool invalid_range(const char* detail) {
    PyErr_Format(PyExc_ValueError, "kama_batch: Invalid range: %s", detail);
    return false;
}

// The rows of a sweep: a list, or an arithmetic range that is never stored, so that a huge
// range is validated (and refused) before anything of its size exists.
struct period_rows {
    bool from_list = false;
    std::vector<Py_ssize_t> list;
    Py_ssize_t start = 30;
    std::size_t step = 0, count = 1;

    std::size_t size() const { return from_list ? list.size() : count; }
    Py_ssize_t at(std::size_t k) const {  // start + k*step <= end, computed without signed overflow
        return from_list ? list[k]
                         : static_cast<Py_ssize_t>(static_cast<std::size_t>(start) + k * step);
    }
};

// (start, end, step): step == 0 or start == end gives one row; otherwise rows ascend from
// start by step up to and including end (SPEC §3).
bool rows_from_range(PyObject* range, period_rows* rows) {
    if (!PySequence_Check(range) || PyUnicode_Check(range)) {
        py_ptr tn(type_name(range));
        PyErr_Format(PyExc_TypeError, "kama_batch: period_range must be a (start, end, step) "
                     "tuple, not %V", tn.get(), "?");
        return false;
    }
    Py_ssize_t len = PySequence_Size(range);
    if (len < 0) return false;
    if (len != 3) {
        PyErr_Format(PyExc_TypeError, "kama_batch: period_range must have 3 items "
                     "(start, end, step), got %zd", len);
        return false;
    }
    Py_ssize_t v[3];
    const char* what[3] = {"period_range start", "period_range end", "period_range step"};
    for (int k = 0; k < 3; ++k) {
        py_ptr item(PySequence_GetItem(range, k));
        if (!item || !as_ssize(item.get(), what[k], &v[k])) return false;
    }
    const Py_ssize_t start = v[0], end = v[1], step = v[2];
    rows->start = start;
    if (step < 0) return invalid_range("step must be >= 0");
    if (step == 0 || start == end) return true;  // one row
    if (start > end) return invalid_range("start > end with step > 0 gives no period");
    const std::size_t span = static_cast<std::size_t>(end) - static_cast<std::size_t>(start);
    rows->step = static_cast<std::size_t>(step);
    if (span / rows->step >= PY_SSIZE_T_MAX / sizeof(double)) {
        PyErr_NoMemory();  // more rows than any array can hold
        return false;
    }
    rows->count = span / rows->step + 1;
    return true;
}

bool rows_from_list(PyObject* list, period_rows* rows) {
    rows->from_list = true;
    py_ptr iter(PyObject_GetIter(list));
    if (!iter) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            py_ptr tn(type_name(list));
            PyErr_Format(PyExc_TypeError, "kama_batch: periods must be a sequence of integers, not %V",
                         tn.get(), "?");
        }
        return false;
    }
    while (py_ptr item{PyIter_Next(iter.get())}) {
        Py_ssize_t p;
        if (!as_ssize(item.get(), "each of periods", &p)) return false;
        try {
            rows->list.push_back(p);
        } catch (const std::bad_alloc&) {
            PyErr_NoMemory();
            return false;
        }
    }
    if (PyErr_Occurred()) return false;
    if (rows->list.empty()) return invalid_range("periods is empty");
    return true;
}

}  // namespace

PyObject* py_kama_batch(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* a[8];
    if (!batch_args.parse(args, nargs, kwnames, a)) return nullptr;
    PyObject* range = a[1];
    PyObject* list = a[3] == Py_None ? nullptr : a[3];
    if (range == Py_None) range = nullptr;
    if (range && list) {
        PyErr_SetString(PyExc_TypeError, "kama_batch: give period_range or periods, not both");
        return nullptr;
    }
    period_rows periods;
    if (list ? !rows_from_list(list, &periods) : (range && !rows_from_range(range, &periods)))
        return nullptr;
    kernel_fn kernel;
    if (!parse_kernel(a[2], &kernel)) return nullptr;
    params_t prm;
    std::size_t threads;
    if (!parse_smoothing("kama_batch", a[4], a[5], &prm) ||
        !parse_compat("kama_batch", a[6], &prm.compat) || !parse_threads("kama_batch", a[7], &threads))
        return nullptr;
    prm.threads = 1;  // threads go across rows
    py_ptr xobj(reinterpret_cast<PyObject*>(as_f64_vector(a[0], "kama_batch")));
    if (!xobj) return nullptr;
    auto* xarr = reinterpret_cast<PyArrayObject*>(xobj.get());
    const auto n = static_cast<std::size_t>(PyArray_DIM(xarr, 0));
    const auto* x = static_cast<const double*>(PyArray_DATA(xarr));
    const std::size_t rows = periods.size();

    double* values = nullptr;
    std::int64_t* labels = nullptr;
    std::size_t first = 0, bad_row = 0;
    data_error err = data_error::none;
    {
        gil_release nogil;
        first = first_valid(x, n);
        // Every row is checked before anything is allocated. A range ascends, so in TA-Lib's
        // mode (valid iff period >= 1) its first row decides; in VectorTA's mode at most n
        // periods are valid, so the loop ends within n + 1 rows either way.
        const std::size_t checks = (!periods.from_list && prm.compat == compat_t::talib) ? 1 : rows;
        for (std::size_t k = 0; k < checks && err == data_error::none; ++k) {
            err = check_series(n, first, periods.at(k), prm.compat);
            bad_row = k;
        }
        if (err == data_error::none) {
            // rows * n must not wrap; alloc_buffer refuses a byte count past PY_SSIZE_T_MAX.
            const bool fits = n == 0 || rows <= static_cast<std::size_t>(PY_SSIZE_T_MAX) / n;
            values = fits ? static_cast<double*>(alloc_buffer(rows * n)) : nullptr;
            labels = values ? static_cast<std::int64_t*>(alloc_buffer(rows, sizeof(std::int64_t))) : nullptr;
            if (!values || !labels) err = data_error::no_memory;
        }
        if (err == data_error::none) {
            const bool ok = run_rows(rows, workers_for(threads, rows, rows * n), [&](std::size_t k) {
                labels[k] = periods.at(k);
                params_t row = prm;
                row.period = static_cast<std::size_t>(labels[k]);
                return kernel(x, n, first, row, values + k * n) == status_t::ok;
            });
            if (!ok) err = data_error::no_memory;
        }
    }
    if (err != data_error::none) {
        free_buffer(values);
        free_buffer(labels);
        raise_data_error(err, "kama_batch", n, first, periods.at(bad_row));
        return nullptr;
    }
    const npy_intp vdims[2] = {static_cast<npy_intp>(rows), static_cast<npy_intp>(n)};
    const npy_intp ldims[1] = {static_cast<npy_intp>(rows)};
    py_ptr vals(wrap_buffer(values, 2, vdims));
    if (!vals) {
        free_buffer(labels);
        return nullptr;
    }
    py_ptr labs(wrap_buffer(labels, 1, ldims, NPY_INT64));
    if (!labs) return nullptr;
    py_ptr result(PyDict_New());
    if (!result || PyDict_SetItemString(result.get(), "values", vals.get()) < 0 ||
        PyDict_SetItemString(result.get(), "periods", labs.get()) < 0)
        return nullptr;
    return result.release();
}

}  // namespace kama
