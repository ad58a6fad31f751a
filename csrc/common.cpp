#include "common.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "dispatch.hpp"

namespace kama {

// ---- memory owned by result arrays -------------------------------------------------------

namespace {
std::atomic<Py_ssize_t> live_count{0};
constexpr const char* buffer_capsule_name = "kama.buffer";

void capsule_free(PyObject* capsule) {
    free_buffer(PyCapsule_GetPointer(capsule, buffer_capsule_name));
}
}  // namespace

void* alloc_buffer(std::size_t count, std::size_t itemsize) noexcept {
    if (itemsize && count > static_cast<std::size_t>(PY_SSIZE_T_MAX) / itemsize) return nullptr;
    void* p = nullptr;
    const std::size_t bytes = count * itemsize;
    // Results of 32 MiB and more ask for transparent huge pages. glibc serves them with a fresh
    // mmap every call (32 MiB is its largest dynamic mmap threshold), and faulting 80 MB in page
    // by page cost ~38 ms here, more than computing it; smaller buffers are reused from the heap
    // without faults, and huge pages made them slower (8 MB: 1.2 -> 2.1 ms).
    constexpr std::size_t huge = std::size_t(1) << 21, huge_from = std::size_t(1) << 25;
    const std::size_t align = bytes >= huge_from ? huge : 64;
    if (posix_memalign(&p, align, bytes != 0 ? bytes : 64) != 0) return nullptr;
    if (bytes >= huge_from) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure is harmless
    live_count.fetch_add(1, std::memory_order_relaxed);
    return p;
}

void free_buffer(void* data) noexcept {
    if (!data) return;
    std::free(data);
    live_count.fetch_sub(1, std::memory_order_relaxed);
}

Py_ssize_t live_buffers() noexcept { return live_count.load(std::memory_order_relaxed); }

PyObject* wrap_buffer(void* data, int nd, const npy_intp* dims, int typenum) {
    PyObject* capsule = PyCapsule_New(data, buffer_capsule_name, capsule_free);
    if (!capsule) {
        free_buffer(data);
        return nullptr;
    }
    PyObject* arr = PyArray_NewFromDescr(&PyArray_Type, PyArray_DescrFromType(typenum), nd,
                                         const_cast<npy_intp*>(dims), nullptr, data,
                                         NPY_ARRAY_CARRAY, nullptr);
    if (!arr) {
        Py_DECREF(capsule);  // frees data
        return nullptr;
    }
    // Steals the capsule, also on failure.
    if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(arr), capsule) < 0) {
        Py_DECREF(arr);
        return nullptr;
    }
    return arr;
}

// ---- arguments -----------------------------------------------------------------------------

bool arg_parser::parse(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** out) {
    if (!interned) {
        int n = 0;
        while (names[n]) ++n;
        auto** table = static_cast<PyObject**>(PyMem_Malloc(static_cast<std::size_t>(n) * sizeof(PyObject*)));
        if (!table) {
            PyErr_NoMemory();
            return false;
        }
        for (int i = 0; i < n; ++i) {
            table[i] = PyUnicode_InternFromString(names[i]);
            if (!table[i]) {
                while (i--) Py_DECREF(table[i]);
                PyMem_Free(table);
                return false;
            }
        }
        count = n;
        interned = table;
    }
    for (int i = 0; i < count; ++i) out[i] = nullptr;
    if (nargs > max_positional) {
        PyErr_Format(PyExc_TypeError, "%s takes at most %d positional arguments (%zd given)",
                     fname, max_positional, nargs);
        return false;
    }
    for (Py_ssize_t i = 0; i < nargs; ++i) out[i] = args[i];
    if (kwnames) {
        Py_ssize_t nkw = PyTuple_Size(kwnames);
        for (Py_ssize_t k = 0; k < nkw; ++k) {
            PyObject* key = PyTuple_GetItem(kwnames, k);
            int j = 0;
            while (j < count && interned[j] != key) ++j;  // interned: usually a pointer match
            if (j == count) {
                for (j = 0; j < count; ++j) {
                    int eq = PyUnicode_Compare(key, interned[j]);
                    if (eq == 0) break;
                    if (eq == -1 && PyErr_Occurred()) return false;
                }
            }
            if (j == count) {
                PyErr_Format(PyExc_TypeError, "%s got an unexpected keyword argument '%U'", fname, key);
                return false;
            }
            if (out[j]) {
                PyErr_Format(PyExc_TypeError, "%s got multiple values for argument '%s'", fname, names[j]);
                return false;
            }
            out[j] = args[nargs + k];
        }
    }
    for (int i = 0; i < required; ++i) {
        if (!out[i]) {
            PyErr_Format(PyExc_TypeError, "%s missing required argument '%s' (pos %d)", fname,
                         names[i], i + 1);
            return false;
        }
    }
    return true;
}

bool as_ssize(PyObject* obj, const char* what, Py_ssize_t* value) {
    if (PyFloat_Check(obj) || !PyIndex_Check(obj)) {
        py_ptr tn(type_name(obj));
        PyErr_Format(PyExc_TypeError, "%s must be an integer, not %V", what, tn.get(), "?");
        return false;
    }
    py_ptr index(PyNumber_Index(obj));
    if (!index) return false;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(index.get(), &overflow);
    if (v == -1 && PyErr_Occurred()) return false;
    if (overflow > 0 || v > PY_SSIZE_T_MAX) v = PY_SSIZE_T_MAX;
    if (overflow < 0 || v < PY_SSIZE_T_MIN) v = PY_SSIZE_T_MIN;
    *value = static_cast<Py_ssize_t>(v);
    return true;
}

bool parse_smoothing(const char* fname, PyObject* fast, PyObject* slow, params_t* prm,
                     Py_ssize_t* fast_out, Py_ssize_t* slow_out) {
    Py_ssize_t f = 2, s = 30;
    if (fast && !as_ssize(fast, "fast", &f)) return false;
    if (slow && !as_ssize(slow, "slow", &s)) return false;
    if (f < 1) {
        PyErr_Format(PyExc_ValueError, "%s: Invalid fast: fast = %zd (must be >= 1)", fname, f);
        return false;
    }
    if (s < 1) {
        PyErr_Format(PyExc_ValueError, "%s: Invalid slow: slow = %zd (must be >= 1)", fname, s);
        return false;
    }
    prm->fsc = 2.0 / (static_cast<double>(f) + 1.0);
    prm->ssc = 2.0 / (static_cast<double>(s) + 1.0);
    if (fast_out) *fast_out = f;
    if (slow_out) *slow_out = s;
    return true;
}

bool parse_compat(const char* fname, PyObject* obj, compat_t* compat) {
    *compat = compat_t::vectorta;
    if (!obj) return true;
    if (!PyUnicode_Check(obj)) {
        py_ptr tn(type_name(obj));
        PyErr_Format(PyExc_TypeError, "%s: compat must be a str, not %V", fname, tn.get(), "?");
        return false;
    }
    if (PyUnicode_CompareWithASCIIString(obj, "vectorta") == 0) return true;
    if (PyUnicode_CompareWithASCIIString(obj, "talib") == 0) {
        *compat = compat_t::talib;
        return true;
    }
    PyErr_Format(PyExc_ValueError, "%s: Invalid compat: %R (expected 'vectorta' or 'talib')", fname, obj);
    return false;
}

namespace {
kernel_fn default_kernel = kama_f64_scalar;

// Resolves a kernel name to a runnable kernel or sets ValueError.
bool resolve_kernel(const char* name, const char* source, kernel_fn* fn) {
    if (std::strcmp(name, "auto") == 0) {
        *fn = kernel_info(best_kernel()).fn;
        return true;
    }
    kernel_id id;
    if (!kernel_from_name(name, &id)) {
        PyErr_Format(PyExc_ValueError, "Unknown kernel%s: '%s'; valid kernels: %s", source, name,
                     kernel_names_for_error());
        return false;
    }
    char why[256];
    if (!kernel_usable(id, why, sizeof(why))) {
        PyErr_Format(PyExc_ValueError, "kernel%s '%s' cannot run: %s", source, name, why);
        return false;
    }
    *fn = kernel_info(id).fn;
    return true;
}
}  // namespace

bool parse_kernel(PyObject* obj, kernel_fn* fn) {
    if (!obj || obj == Py_None) {
        *fn = default_kernel;
        return true;
    }
    if (!PyUnicode_Check(obj)) {
        py_ptr tn(type_name(obj));
        PyErr_Format(PyExc_TypeError, "kernel must be a str or None, not %V", tn.get(), "?");
        return false;
    }
    Py_ssize_t size = 0;
    const char* name = PyUnicode_AsUTF8AndSize(obj, &size);
    if (!name) return false;
    if (std::strlen(name) != static_cast<std::size_t>(size)) {  // an embedded NUL
        PyErr_Format(PyExc_ValueError, "Unknown kernel: %R; valid kernels: %s", obj, kernel_names_for_error());
        return false;
    }
    return resolve_kernel(name, "", fn);
}

bool parse_threads(const char* fname, PyObject* obj, std::size_t* threads) {
    *threads = 0;
    if (!obj || obj == Py_None) return true;
    Py_ssize_t t;
    if (!as_ssize(obj, "threads", &t)) return false;
    if (t < 1) {
        PyErr_Format(PyExc_ValueError, "%s: threads must be None or >= 1, got %zd", fname, t);
        return false;
    }
    *threads = static_cast<std::size_t>(t);
    return true;
}

bool set_default_kernel_from_env() {
    const char* env = std::getenv("KAMA_KERNEL");
    if (!env || !*env) {
        default_kernel = kernel_info(best_kernel()).fn;
        return true;
    }
    return resolve_kernel(env, " (from KAMA_KERNEL)", &default_kernel);
}

// ---- arrays ----------------------------------------------------------------------------------

PyArrayObject* as_f64_series(PyObject* data, const char* fname, Py_ssize_t* axis, bool* two_d) {
    *two_d = false;
    if (PyArray_Check(data) && (*axis == -1 || *axis == 0)) {
        auto* a = reinterpret_cast<PyArrayObject*>(data);
        if (PyArray_NDIM(a) == 1 && PyArray_TYPE(a) == NPY_DOUBLE && PyArray_ISCARRAY_RO(a) &&
            PyArray_ISNOTSWAPPED(a)) {
            *axis = 0;
            Py_INCREF(data);
            return a;
        }
    }
    py_ptr any(PyArray_FromAny(data, nullptr, 0, 0, 0, nullptr));
    if (!any) return nullptr;
    auto* a = reinterpret_cast<PyArrayObject*>(any.get());
    const char kind = PyArray_DESCR(a)->kind;
    const bool numeric = kind == 'b' || kind == 'i' || kind == 'u' || kind == 'f';
    if (!numeric && kind != 'O') {
        PyErr_Format(PyExc_TypeError, "%s: data must be real numbers, got an array of dtype %R",
                     fname, reinterpret_cast<PyObject*>(PyArray_DESCR(a)));
        return nullptr;
    }
    const int nd = PyArray_NDIM(a);
    if (nd == 0) {
        py_ptr tn(type_name(data));
        PyErr_Format(PyExc_TypeError, "%s: data must be a 1-D sequence of numbers, not %V", fname,
                     tn.get(), "?");
        return nullptr;
    }
    if (nd > 2) {
        PyErr_Format(PyExc_ValueError, "%s: data must be 1-D or 2-D, got %d dimensions", fname, nd);
        return nullptr;
    }
    const Py_ssize_t ax = *axis < 0 ? *axis + nd : *axis;
    if (ax < 0 || ax >= nd) {
        PyErr_Format(PyExc_ValueError, "%s: axis %zd is out of bounds for array of dimension %d",
                     fname, *axis, nd);
        return nullptr;
    }
    *axis = ax;
    *two_d = nd == 2;
    if (nd == 2 && ax == 0) {  // series down the columns: make them rows
        any.reset(PyArray_Transpose(a, nullptr));
        if (!any) return nullptr;
        a = reinterpret_cast<PyArrayObject*>(any.get());
    }
    PyObject* vec = PyArray_FromArray(a, PyArray_DescrFromType(NPY_DOUBLE),
                                      NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST);
    if (!vec && kind == 'O' &&
        (PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_TypeError))) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s: data must be real numbers; an element could not be "
                     "converted to float", fname);
    }
    return reinterpret_cast<PyArrayObject*>(vec);
}

PyArrayObject* as_f64_vector(PyObject* data, const char* fname) {
    Py_ssize_t axis = -1;
    bool two_d;
    PyArrayObject* vec = as_f64_series(data, fname, &axis, &two_d);
    if (vec && two_d) {
        Py_DECREF(vec);
        PyErr_Format(PyExc_ValueError, "%s: data must be 1-D, got 2 dimensions", fname);
        return nullptr;
    }
    return vec;
}

data_error check_series(std::size_t n, std::size_t first, Py_ssize_t period, compat_t compat) noexcept {
    if (n == 0) return data_error::empty;
    if (first >= n) return data_error::all_nan;
    if (period < 1) return data_error::invalid_period;
    if (compat == compat_t::vectorta) {
        const auto p = static_cast<std::size_t>(period);
        if (p > n) return data_error::invalid_period;
        if (n - first < p + 1) return data_error::not_enough;
    }
    return data_error::none;
}

void raise_data_error(data_error e, const char* fname, std::size_t n, std::size_t first,
                      Py_ssize_t period) {
    switch (e) {
        case data_error::none:
            break;
        case data_error::empty:
            PyErr_Format(PyExc_ValueError, "%s: Input data slice is empty.", fname);
            break;
        case data_error::all_nan:
            PyErr_Format(PyExc_ValueError, "%s: All values are NaN.", fname);
            break;
        case data_error::invalid_period:
            PyErr_Format(PyExc_ValueError, "%s: Invalid period: period = %zd, data length = %zu",
                         fname, period, n);
            break;
        case data_error::not_enough:
            PyErr_Format(PyExc_ValueError, "%s: Not enough valid data: needed = %zu, valid = %zu",
                         fname, static_cast<std::size_t>(period) + 1, n - first);
            break;
        case data_error::no_memory:
            PyErr_NoMemory();
            break;
    }
}

}  // namespace kama
