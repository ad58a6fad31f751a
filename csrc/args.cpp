// Argument parsing: the FASTCALL parser and the conversion and checking of every option.
#include <cstdlib>
#include <cstring>

#include "common.hpp"
#include "dispatch.hpp"

namespace kama {

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

bool as_ssize(PyObject* obj, const char* what, Py_ssize_t* value, py_ptr* inexact) {
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
    if (inexact) inexact->reset(overflow ? index.release() : nullptr);
    return true;
}

PyObject* quote_int(const py_ptr& inexact, Py_ssize_t value) {
    if (!inexact) return PyUnicode_FromFormat("%zd", value);
    PyObject* text = PyObject_Str(inexact.get());
    if (!text && PyErr_ExceptionMatches(PyExc_ValueError)) {  // past sys.get_int_max_str_digits()
        PyErr_Clear();
        text = PyUnicode_FromString(value > 0 ? "an integer too large to print" : "an integer too small to print");
    }
    return text;
}

bool parse_period(PyObject* obj, period_arg* period) {
    return !obj || as_ssize(obj, "period", &period->value, &period->inexact);
}

namespace {
// fast and slow: integers from 1 to PY_SSIZE_T_MAX.
bool parse_smoothing_period(const char* fname, const char* what, const char* name, PyObject* obj,
                            Py_ssize_t* value) {
    if (!obj) return true;
    py_ptr inexact;
    if (!as_ssize(obj, name, value, &inexact)) return false;
    if (*value >= 1 && !inexact) return true;
    py_ptr text(quote_int(inexact, *value));
    if (!text) return false;
    PyErr_Format(PyExc_ValueError, "%s: Invalid %s: %s = %U (must be an integer from 1 to %zd)", fname,
                 what, name, text.get(), PY_SSIZE_T_MAX);
    return false;
}
}  // namespace

bool parse_smoothing(const char* fname, PyObject* fast, PyObject* slow, params_t* prm,
                     Py_ssize_t* fast_out, Py_ssize_t* slow_out) {
    Py_ssize_t f = 2, s = 30;
    if (!parse_smoothing_period(fname, "fast", "fast", fast, &f) ||
        !parse_smoothing_period(fname, "slow", "slow", slow, &s))
        return false;
    prm->fsc = 2.0 / (static_cast<double>(f) + 1.0);
    prm->ssc = 2.0 / (static_cast<double>(s) + 1.0);
    if (fast_out) *fast_out = f;
    if (slow_out) *slow_out = s;
    return true;
}

bool parse_unstable(const char* fname, PyObject* obj, std::size_t* unstable) {
    *unstable = 0;
    if (!obj) return true;
    Py_ssize_t v;
    py_ptr inexact;
    if (!as_ssize(obj, "unstable_period", &v, &inexact)) return false;
    if (v >= 0 && v < PY_SSIZE_T_MAX && !inexact) {  // a stream counts outputs to it + 1
        *unstable = static_cast<std::size_t>(v);
        return true;
    }
    py_ptr text(quote_int(inexact, v));
    if (text)
        PyErr_Format(PyExc_ValueError, "%s: Invalid unstable_period: unstable_period = %U (must be an integer "
                     "from 0 to %zd)", fname, text.get(), PY_SSIZE_T_MAX - 1);
    return false;
}

bool parse_nan_policy(const char* fname, PyObject* obj, bool* skip) {
    *skip = false;
    if (!obj) return true;
    if (!PyUnicode_Check(obj)) {
        py_ptr tn(type_name(obj));
        PyErr_Format(PyExc_TypeError, "%s: nan_policy must be a str, not %V", fname, tn.get(), "?");
        return false;
    }
    if (PyUnicode_CompareWithASCIIString(obj, "propagate") == 0) return true;
    if (PyUnicode_CompareWithASCIIString(obj, "skip") == 0) {
        *skip = true;
        return true;
    }
    PyErr_Format(PyExc_ValueError, "%s: Invalid nan_policy: %R (expected 'propagate' or 'skip')", fname, obj);
    return false;
}

const char* compat_name(compat_t c) {
    switch (c) {
        case compat_t::talib: return "talib";
        case compat_t::tulipy: return "tulipy";
        case compat_t::pandas_ta: return "pandas_ta";
        default: return "vectorta";
    }
}

bool parse_compat(const char* fname, PyObject* obj, compat_t* compat) {
    *compat = compat_t::vectorta;
    if (!obj) return true;
    if (!PyUnicode_Check(obj)) {
        py_ptr tn(type_name(obj));
        PyErr_Format(PyExc_TypeError, "%s: compat must be a str, not %V", fname, tn.get(), "?");
        return false;
    }
    static const compat_t modes[] = {compat_t::vectorta, compat_t::talib, compat_t::tulipy, compat_t::pandas_ta};
    for (const compat_t c : modes) {
        if (PyUnicode_CompareWithASCIIString(obj, compat_name(c)) == 0) {
            *compat = c;
            return true;
        }
    }
    PyErr_Format(PyExc_ValueError,
                 "%s: Invalid compat: %R (expected 'vectorta', 'talib', 'tulipy' or 'pandas_ta')", fname, obj);
    return false;
}

namespace {
kernel_fn default_kernel = kama_f64_scalar;

// Resolves a kernel name to a runnable kernel or sets ValueError.
bool resolve_kernel(const char* name, const char* source, kernel_fn* fn) {
    if (std::strcmp(name, "auto") == 0) {
        *fn = best_kernel().fn;
        return true;
    }
    const kernel_entry* k = kernel_from_name(name);
    if (!k) {
        PyErr_Format(PyExc_ValueError, "Unknown kernel%s: '%s'; valid kernels: %s", source, name,
                     kernel_names_for_error());
        return false;
    }
    char why[256];
    if (!kernel_usable(*k, why, sizeof(why))) {
        PyErr_Format(PyExc_ValueError, "kernel%s '%s' cannot run: %s", source, name, why);
        return false;
    }
    *fn = k->fn;
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
    if (!name) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeError)) return false;  // a lone surrogate
        PyErr_Clear();
    }
    if (!name || std::strlen(name) != static_cast<std::size_t>(size)) {  // or an embedded NUL
        PyErr_Format(PyExc_ValueError, "Unknown kernel: %R; valid kernels: %s", obj, kernel_names_for_error());
        return false;
    }
    return resolve_kernel(name, "", fn);
}

bool parse_threads(const char* fname, PyObject* obj, std::size_t* threads) {
    *threads = 0;
    if (!obj || obj == Py_None) return true;
    Py_ssize_t t;
    py_ptr inexact;
    if (!as_ssize(obj, "threads", &t, &inexact)) return false;
    if (t < 1) {
        py_ptr text(quote_int(inexact, t));
        if (text) PyErr_Format(PyExc_ValueError, "%s: threads must be None or >= 1, got %U", fname, text.get());
        return false;
    }
    *threads = static_cast<std::size_t>(t);
    return true;
}

bool set_default_kernel_from_env() {
    const char* env = std::getenv("KAMA_KERNEL");
    if (!env || !*env) {
        default_kernel = best_kernel().fn;
        return true;
    }
    return resolve_kernel(env, " (from KAMA_KERNEL)", &default_kernel);
}

}  // namespace kama
