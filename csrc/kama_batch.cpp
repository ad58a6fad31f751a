// kama_batch(): one series (or each row of a 2-D array), many periods; rows of a (rows, n) or
// (series, rows, n) array.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <new>
#include <stdexcept>
#include <vector>

#include "common.hpp"
#include "dispatch.hpp"

namespace kama {

extern const char kama_batch_doc[] =
    "kama_batch(data, period_range=(30, 30, 0), kernel=None, *, periods=None, fast=2, slow=30, "
    "compat='vectorta', unstable_period=0, nan_policy='propagate', threads=None)\n"
    "--\n\n"
    "KAMA of one series (or of each row of a 2-D array) for many periods.\n\n"
    "period_range=(start, end, step), a tuple: step == 0 or start == end gives one row; otherwise\n"
    "rows go from start by step towards end, up to and including it (down when start > end).\n"
    "periods=[...] gives the rows in the order given instead.\n\n"
    "Returns {'values': float64 array (rows, n), or (series, rows, n) for 2-D data, 'periods':\n"
    "uint64 array (rows,)}; row k equals kama(data, periods[k], ..., threads=1) bit for bit,\n"
    "with kernel='scalar' when a SIMD kernel runs the periods side by side (at least a vector's\n"
    "lanes of them: 8 with AVX-512, 4 with AVX2; not with nan_policy='skip'). threads: None\n"
    "spreads the rows over every core when the sweep is large enough, 1 stays on the calling\n"
    "thread; neither changes a bit.\n\n"
    ">>> import kama\n"
    ">>> kama.kama_batch([1.0, 2.0, 3.0, 2.0, 4.0], (1, 3, 1))['periods'].tolist()\n"
    "[1, 2, 3]\n";

namespace {

const char* const batch_names[] = {"data", "period_range", "kernel", "periods", "fast", "slow",
                                   "compat", "threads", "unstable_period", "nan_policy", nullptr};
arg_parser batch_args{"kama_batch()", batch_names, 3, 1};

bool invalid_range(const char* detail) {
    PyErr_Format(PyExc_ValueError, "kama_batch: Invalid range: %s", detail);
    return false;
}

// The rows of a sweep: a list, or an arithmetic range that is never stored, so that a huge
// range is validated (and refused) before anything of its size exists. A range's rows are
// monotone, and the periods valid for a series form one interval [1, most], so its first
// invalid row is found without walking it.
struct period_rows {
    bool from_list = false;
    std::vector<Py_ssize_t> list;
    Py_ssize_t start = 30;
    bool descending = false;
    std::size_t step = 0, last = 0;  // rows start +- k*step for k in [0, last]

    // Rows; more than any array could hold saturates (such a sweep can never be allocated).
    std::size_t size() const { return from_list ? list.size() : (last == SIZE_MAX ? SIZE_MAX : last + 1); }
    Py_ssize_t at(std::size_t k) const {  // between start and end: no overflow in unsigned arithmetic
        if (from_list) return list[k];
        const std::size_t base = static_cast<std::size_t>(start);
        return static_cast<Py_ssize_t>(descending ? base - k * step : base + k * step);
    }
    Py_ssize_t largest() const {
        Py_ssize_t most = at(0);
        if (!from_list) return descending ? most : at(last);
        for (Py_ssize_t p : list) most = p > most ? p : most;
        return most;
    }
    // The index of the first row outside [1, most], or size() when every row is inside.
    std::size_t first_outside(Py_ssize_t most) const {
        if (from_list) {
            for (std::size_t k = 0; k < list.size(); ++k)
                if (list[k] < 1 || list[k] > most) return k;
            return list.size();
        }
        if (start < 1 || start > most) return 0;
        // Rows still inside: descending down to 1, ascending up to most.
        const std::size_t room = descending ? static_cast<std::size_t>(start) - 1
                                            : static_cast<std::size_t>(most) - static_cast<std::size_t>(start);
        const std::size_t inside = step == 0 ? last : room / step;
        return inside >= last ? size() : inside + 1;
    }
};

// A range item: an integer that fits in 64 bits (a row outside that could not be a period).
bool range_item(PyObject* range, Py_ssize_t k, Py_ssize_t* value) {
    static const char* const what[3] = {"period_range start", "period_range end", "period_range step"};
    PyObject* item = PyTuple_GetItem(range, k);
    py_ptr inexact;
    if (!item || !as_ssize(item, what[k], value, &inexact)) return false;
    if (!inexact) return true;
    py_ptr text(quote_int(inexact, *value));
    if (text)
        PyErr_Format(PyExc_ValueError, "kama_batch: Invalid range: %s = %U does not fit in 64 bits",
                     what[k], text.get());
    return false;
}

// (start, end, step), a tuple (SPEC §3): step == 0 or start == end gives one row; otherwise rows
// go from start by step towards end, up to and including it (down when start > end).
bool rows_from_range(PyObject* range, period_rows* rows) {
    if (!PyTuple_Check(range)) {
        py_ptr tn(type_name(range));
        PyErr_Format(PyExc_TypeError, "kama_batch: period_range must be a (start, end, step) tuple, "
                     "not %V; to give the periods one by one, use periods=[...]", tn.get(), "?");
        return false;
    }
    const Py_ssize_t len = PyTuple_Size(range);
    if (len != 3) {
        PyErr_Format(PyExc_ValueError, "kama_batch: Invalid range: period_range must have 3 items "
                     "(start, end, step), got %zd", len);
        return false;
    }
    Py_ssize_t v[3];
    for (int k = 0; k < 3; ++k)
        if (!range_item(range, k, &v[k])) return false;
    const Py_ssize_t start = v[0], end = v[1], step = v[2];
    rows->start = start;
    if (step < 0) return invalid_range("step must be >= 0");
    if (step == 0 || start == end) return true;  // one row
    rows->descending = start > end;
    const std::size_t span = rows->descending ? static_cast<std::size_t>(start) - static_cast<std::size_t>(end)
                                              : static_cast<std::size_t>(end) - static_cast<std::size_t>(start);
    rows->step = static_cast<std::size_t>(step);
    rows->last = span / rows->step;
    return true;
}

// A period of periods= that must fit in 64 bits.
bool list_item(PyObject* item, Py_ssize_t* value) {
    py_ptr inexact;
    if (!as_ssize(item, "each of periods", value, &inexact)) return false;
    if (!inexact) return true;
    py_ptr text(quote_int(inexact, *value));
    if (text)
        PyErr_Format(PyExc_ValueError, "kama_batch: Invalid period: period = %U does not fit in 64 bits", text.get());
    return false;
}

// periods=range(...): its rows without storing them, as a period_range is.
bool rows_from_python_range(PyObject* range, period_rows* rows) {
    // range[0] and range[-1] through a Python index: len() of a huge range would overflow.
    py_ptr zero(PyLong_FromLong(0)), minus_one(PyLong_FromLong(-1));
    if (!zero || !minus_one) return false;
    py_ptr first(PyObject_GetItem(range, zero.get()));
    if (!first) {
        if (!PyErr_ExceptionMatches(PyExc_IndexError)) return false;
        PyErr_Clear();
        return invalid_range("periods is empty");
    }
    py_ptr last(PyObject_GetItem(range, minus_one.get()));
    py_ptr step_obj(last ? PyObject_GetAttrString(range, "step") : nullptr);
    Py_ssize_t lo, hi;
    if (!step_obj || !list_item(first.get(), &lo)) return false;
    py_ptr inexact;
    if (!as_ssize(last.get(), "each of periods", &hi, &inexact)) return false;
    if (inexact) {  // name the first row past 64 bits, as the same periods in a list would
        const bool up = PyObject_RichCompareBool(step_obj.get(), zero.get(), Py_GT) == 1;
        py_ptr bound(PyLong_FromSsize_t(up ? PY_SSIZE_T_MAX : PY_SSIZE_T_MIN));
        py_ptr one(PyLong_FromLong(1));
        py_ptr gap(bound ? (up ? PyNumber_Subtract(bound.get(), first.get()) : PyNumber_Subtract(first.get(), bound.get())) : nullptr);
        py_ptr size(gap ? PyNumber_Absolute(step_obj.get()) : nullptr);
        py_ptr k(size ? PyNumber_FloorDivide(gap.get(), size.get()) : nullptr);
        py_ptr k1(k && one ? PyNumber_Add(k.get(), one.get()) : nullptr);
        py_ptr off(k1 ? PyNumber_Multiply(k1.get(), size.get()) : nullptr);
        py_ptr row(off ? (up ? PyNumber_Add(first.get(), off.get()) : PyNumber_Subtract(first.get(), off.get())) : nullptr);
        Py_ssize_t ignored;
        if (row) list_item(row.get(), &ignored);  // raises for it
        return false;
    }
    rows->start = lo;
    if (lo == hi) return true;  // one row
    Py_ssize_t step;
    if (!as_ssize(step_obj.get(), "the range's step", &step, &inexact)) return false;
    if (inexact) {  // |step| >= 2**63 with both ends in 64 bits: the two ends are the rows
        rows->from_list = true;
        rows->list = {lo, hi};
        return true;
    }
    rows->descending = hi < lo;  // |step| <= |hi - lo| fits, as both ends do
    const std::size_t span = rows->descending ? static_cast<std::size_t>(lo) - static_cast<std::size_t>(hi)
                                              : static_cast<std::size_t>(hi) - static_cast<std::size_t>(lo);
    rows->step = step < 0 ? 0 - static_cast<std::size_t>(step) : static_cast<std::size_t>(step);
    rows->last = span / rows->step;
    return true;
}

// periods=: a sequence or 1-D array of integers, in the order given.
bool rows_from_list(PyObject* list, period_rows* rows) {
    if (!PySequence_Check(list) || PyUnicode_Check(list) || PyBytes_Check(list) ||
        PyByteArray_Check(list) || PyDict_Check(list) || PyAnySet_Check(list)) {
        py_ptr tn(type_name(list));
        PyErr_Format(PyExc_TypeError, "kama_batch: periods must be a sequence or 1-D array of integers, "
                     "not %V", tn.get(), "?");
        return false;
    }
    if (PyArray_Check(list) && PyArray_NDIM(reinterpret_cast<PyArrayObject*>(list)) != 1) {
        PyErr_Format(PyExc_TypeError, "kama_batch: periods must be a sequence or 1-D array of integers, "
                     "got an array of %d dimensions", PyArray_NDIM(reinterpret_cast<PyArrayObject*>(list)));
        return false;
    }
    if (PyRange_Check(list)) return rows_from_python_range(list, rows);
    rows->from_list = true;
    // A hint only (a sequence may have no len(), or one that is wrong): capped, and the vector
    // grows past it as items come.
    Py_ssize_t hint = PyObject_Size(list);
    if (hint < 0) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError) && !PyErr_ExceptionMatches(PyExc_OverflowError)) return false;
        PyErr_Clear();
        hint = 0;
    }
    try {
        rows->list.reserve(static_cast<std::size_t>(hint < (1 << 20) ? hint : (1 << 20)));
    } catch (const std::bad_alloc&) {
        raise_no_memory("kama_batch", static_cast<double>(hint) * sizeof(Py_ssize_t), "the list of periods");
        return false;
    }
    py_ptr iter(PyObject_GetIter(list));
    if (!iter) return false;
    while (py_ptr item{PyIter_Next(iter.get())}) {
        Py_ssize_t p;
        if (!list_item(item.get(), &p)) return false;
        try {
            rows->list.push_back(p);
        } catch (const std::bad_alloc&) {
            raise_no_memory("kama_batch", static_cast<double>(rows->list.size() + 1) * sizeof(Py_ssize_t),
                            "the list of periods");
            return false;
        }
    }
    if (PyErr_Occurred()) return false;
    if (rows->list.empty()) return invalid_range("periods is empty");
    return true;
}

// The largest period valid for a series of n values whose first valid one is at `first`
// (SPEC §5; the caller has ruled out empty and all-NaN input).
Py_ssize_t most_valid_period(std::size_t n, std::size_t first, compat_t compat) {
    if (compat == compat_t::vectorta) return static_cast<Py_ssize_t>(n - first - 1);  // n - first >= p + 1
    if (compat != compat_t::talib) return static_cast<Py_ssize_t>(n - first);  // the seed: n - first >= p
    return PY_SSIZE_T_MAX;
}

}  // namespace

PyObject* py_kama_batch(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* a[10];
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
        !parse_compat("kama_batch", a[6], &prm.compat) || !parse_threads("kama_batch", a[7], &threads) ||
        !parse_unstable("kama_batch", a[8], &prm.unstable) || !parse_nan_policy("kama_batch", a[9], &prm.skip_nan))
        return nullptr;
    prm.threads = 1;  // threads go across rows
    // A pandas or polars object, once the options are known good, goes to the Python glue.
    if (!PyArray_Check(a[0]) && is_frame(a[0])) return call_frames("kama_batch", nullptr, args, nargs, kwnames);
    Py_ssize_t axis = -1;  // 2-D data: one series per row
    bool two_d;
    py_ptr xobj(reinterpret_cast<PyObject*>(as_f64_series(a[0], "kama_batch", &axis, &two_d)));
    if (!xobj) return nullptr;
    auto* xarr = reinterpret_cast<PyArrayObject*>(xobj.get());
    const std::size_t series = two_d ? static_cast<std::size_t>(PyArray_DIM(xarr, 0)) : 1;
    const auto n = static_cast<std::size_t>(PyArray_DIM(xarr, two_d ? 1 : 0));
    const auto* x = static_cast<const double*>(PyArray_DATA(xarr));
    const std::size_t rows = periods.size();

    // Every series and row is validated before anything is sized or allocated (SPEC §5).
    // VectorTA's kama_batch says "All values are NaN" for empty input too; TA-Lib's mode takes
    // any data (SPEC §1, §5). `starts` holds each series' valid_start (its first valid index).
    std::vector<std::size_t> firsts, starts;
    try {
        firsts.resize(series);
        starts.resize(series);
    } catch (const std::bad_alloc&) {
        raise_no_memory("kama_batch", 2.0 * static_cast<double>(series) * sizeof(std::size_t), "the series' first indices");
        return nullptr;
    }
    period_arg bad;
    data_error err = data_error::none;
    std::size_t bad_series = 0;
    {
        gil_release nogil;
        for (std::size_t j = 0; j < series && err == data_error::none; ++j) {
            firsts[j] = first_valid(x + j * n, n);
            starts[j] = valid_start(x + j * n, n, firsts[j], prm);
            bad_series = j;
            if (prm.compat != compat_t::talib && starts[j] >= n) {
                err = data_error::all_nan;
                break;
            }
            const std::size_t k = periods.first_outside(most_valid_period(n, starts[j], prm.compat));
            if (k < rows) {
                bad.value = periods.at(k);
                err = check_series(n, starts[j], bad, prm.compat);
            }
        }
    }
    if (err != data_error::none) {
        char where[64];
        std::snprintf(where, sizeof(where), two_d ? "kama_batch (series %zu)" : "kama_batch", bad_series);
        raise_data_error(err, where, n, starts[bad_series], bad, prm.compat);
        return nullptr;
    }
    double* values = nullptr;
    std::uint64_t* labels = nullptr;
    bool short_of_scratch = false;
    std::atomic<std::size_t> packed_short{SIZE_MAX};  // a series whose NaN-free copy did not fit
    const std::size_t tasks = series <= SIZE_MAX / (rows ? rows : 1) ? series * rows : SIZE_MAX;
    {
        gil_release nogil;
        // series * rows * n must not wrap; alloc_buffer refuses a byte count past PY_SSIZE_T_MAX.
        const bool fits = n == 0 || tasks <= static_cast<std::size_t>(PY_SSIZE_T_MAX) / n;
        values = fits ? static_cast<double*>(alloc_buffer(tasks * n)) : nullptr;
        labels = values ? static_cast<std::uint64_t*>(alloc_buffer(rows, sizeof(std::uint64_t))) : nullptr;
        if (values && labels) {
            for (std::size_t k = 0; k < rows; ++k) labels[k] = static_cast<std::uint64_t>(periods.at(k));
            // Task t is series t / rows with period row t % rows: values[t] is its row of n.
            std::size_t lanes = 0;
            const sweep_fn many = sweep_kernel_for(kernel, &lanes);
            if (many && sweep_pays(rows, lanes, prm)) {
                short_of_scratch = !run_sweeps(many, lanes, x, series, n, firsts.data(), labels, rows, prm, threads, values);
            } else {
                short_of_scratch = !run_rows(tasks, workers_for(threads, tasks, tasks * n), [&](std::size_t t) {
                    const std::size_t j = t / rows;
                    params_t row = prm;
                    row.period = static_cast<std::size_t>(labels[t % rows]);
                    const status_t st = run_series(kernel, x + j * n, n, firsts[j], row, values + t * n);
                    if (st == status_t::no_packed_memory) packed_short.store(j, std::memory_order_relaxed);
                    return st == status_t::ok;
                });
            }
        }
    }
    const int nd = two_d ? 3 : 2;
    const std::size_t shape[3] = {series, rows, n};
    const std::size_t* dims_of = two_d ? shape : shape + 1;
    if (!values || !labels || short_of_scratch) {
        free_buffer(values);
        free_buffer(labels);
        if (short_of_scratch && packed_short.load() != SIZE_MAX) {
            const std::size_t j = packed_short.load();
            raise_packed_no_memory("kama_batch", count_valid(x + j * n + firsts[j], n - firsts[j]));
        } else if (short_of_scratch) {
            raise_scratch_no_memory("kama_batch", periods.largest());
        } else {
            raise_array_no_memory("kama_batch", nd, dims_of);
        }
        return nullptr;
    }
    npy_intp vdims[3];
    for (int k = 0; k < nd; ++k) vdims[k] = static_cast<npy_intp>(dims_of[k]);
    const npy_intp ldims[1] = {static_cast<npy_intp>(rows)};
    py_ptr vals(wrap_buffer(values, nd, vdims));
    if (!vals) {
        free_buffer(labels);
        return nullptr;
    }
    py_ptr labs(wrap_buffer(labels, 1, ldims, NPY_UINT64));
    if (!labs) return nullptr;
    py_ptr result(PyDict_New());
    if (!result || PyDict_SetItemString(result.get(), "values", vals.get()) < 0 ||
        PyDict_SetItemString(result.get(), "periods", labs.get()) < 0)
        return nullptr;
    return result.release();
}

}  // namespace kama
