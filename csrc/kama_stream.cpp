// KamaStream: KAMA bar by bar, bit for bit the scalar kernel's result.
//
// Every computation runs with the GIL released, so a per-object mutex keeps two threads from
// working on one stream at once. The rule that keeps the two locks from deadlocking: the mutex
// is taken only with the GIL released (locked() below), and no Python code runs while it is
// held. The options (period, fast, slow, compat) are mirrored in GIL-protected fields for the
// getters and repr.
#include <cmath>
#include <cstring>
#include <mutex>
#include <utility>

#include "common.hpp"

namespace kama {
namespace {

struct StreamObject {
    PyObject_HEAD
    stream_t state;  // under *lock
    std::mutex* lock;
    Py_ssize_t period, fast, slow;  // under the GIL
    compat_t compat;
};

inline StreamObject* as_stream(PyObject* self) { return reinterpret_cast<StreamObject*>(self); }

// Runs f(state) under the stream's lock with the GIL released.
template <class F>
auto locked(StreamObject* self, F&& f) {
    gil_release nogil;
    std::lock_guard<std::mutex> guard(*self->lock);
    return f(self->state);
}

const char stream_doc[] =
    "KamaStream(period=30, *, fast=2, slow=30, compat='vectorta')\n"
    "--\n\n"
    "KAMA one bar at a time, equal bit for bit to kama(..., kernel='scalar') over the same bars.\n\n"
    "update(value) returns None during the warm-up, then the new KAMA value. Leading NaNs are\n"
    "skipped; a NaN after the first value propagates, as in kama().\n\n"
    ">>> import kama\n"
    ">>> s = kama.KamaStream(2)\n"
    ">>> [s.update(v) for v in (1.0, 2.0, 3.0)]\n"
    "[None, None, 3.0]\n";

const char* compat_name(compat_t c) { return c == compat_t::talib ? "talib" : "vectorta"; }

PyObject* to_output(bool ready, double value) {
    if (!ready) Py_RETURN_NONE;
    return PyFloat_FromDouble(value);
}

// The options as parsed from Python, and a fresh state allocated for them.
struct options_t {
    Py_ssize_t period = 30, fast = 2, slow = 30;
    params_t prm{};
};

bool parse_options(Py_ssize_t period, PyObject* fast, PyObject* slow, PyObject* compat, options_t* o) {
    if (period < 1) {
        PyErr_Format(PyExc_ValueError, "KamaStream: Invalid period: period = %zd", period);
        return false;
    }
    if (!parse_smoothing("KamaStream", fast, slow, &o->prm, &o->fast, &o->slow) ||
        !parse_compat("KamaStream", compat, &o->prm.compat))
        return false;
    o->period = period;
    o->prm.period = static_cast<std::size_t>(period);
    return true;
}

bool alloc_state(const options_t& o, stream_t* state) {
    if (static_cast<std::size_t>(o.period) > PY_SSIZE_T_MAX / (2 * sizeof(double)) ||
        !stream_init(*state, o.prm)) {
        PyErr_NoMemory();
        return false;
    }
    return true;
}

void set_fields(StreamObject* self, const options_t& o) {
    self->period = o.period;
    self->fast = o.fast;
    self->slow = o.slow;
    self->compat = o.prm.compat;
}

// A new, empty object of `type` with its lock; nullptr with an exception on failure.
StreamObject* alloc_object(PyTypeObject* type) {
    auto* self = reinterpret_cast<StreamObject*>(PyType_GenericAlloc(type, 0));
    if (!self) return nullptr;
    self->state.ring = self->state.blocks = nullptr;
    self->lock = new (std::nothrow) std::mutex();
    if (!self->lock) {
        Py_DECREF(self);
        PyErr_NoMemory();
        return nullptr;
    }
    return self;
}

const char* const new_names[] = {"period", "fast", "slow", "compat", nullptr};
arg_parser new_args{"KamaStream()", new_names, 1, 0};

PyObject* stream_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    // tp_new receives a tuple and a dict; flatten them for the FASTCALL parser.
    Py_ssize_t nargs = PyTuple_Size(args);
    Py_ssize_t nkw = kwargs ? PyDict_Size(kwargs) : 0;
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "KamaStream() takes at most 1 positional argument (%zd given)", nargs);
        return nullptr;
    }
    PyObject* flat[5];
    py_ptr kwnames(nkw ? PyTuple_New(nkw) : nullptr);
    if (nkw && !kwnames) return nullptr;
    for (Py_ssize_t i = 0; i < nargs; ++i) flat[i] = PyTuple_GetItem(args, i);
    if (nkw) {
        if (nkw > 4) {
            PyErr_SetString(PyExc_TypeError, "KamaStream() got too many keyword arguments");
            return nullptr;
        }
        Py_ssize_t pos = 0, k = 0;
        PyObject *key, *value;
        while (PyDict_Next(kwargs, &pos, &key, &value)) {
            Py_INCREF(key);
            PyTuple_SetItem(kwnames.get(), k, key);
            flat[nargs + k++] = value;
        }
    }
    PyObject* a[4];
    if (!new_args.parse(flat, nargs, kwnames.get(), a)) return nullptr;
    Py_ssize_t period = 30;
    if (a[0] && !as_ssize(a[0], "period", &period)) return nullptr;
    options_t o;
    if (!parse_options(period, a[1], a[2], a[3], &o)) return nullptr;
    StreamObject* self = alloc_object(type);
    if (!self) return nullptr;
    if (!alloc_state(o, &self->state)) {
        Py_DECREF(self);
        return nullptr;
    }
    set_fields(self, o);
    return reinterpret_cast<PyObject*>(self);
}

void stream_dealloc(PyObject* obj) {
    StreamObject* self = as_stream(obj);
    PyTypeObject* type = Py_TYPE(obj);
    stream_free(self->state);
    delete self->lock;
    reinterpret_cast<freefunc>(PyType_GetSlot(type, Py_tp_free))(obj);
    Py_DECREF(type);  // heap type instances hold a reference to their type
}

bool as_value(PyObject* obj, double* value) {
    *value = PyFloat_AsDouble(obj);
    return !(*value == -1.0 && PyErr_Occurred());
}

bool peek_step(stream_t& s, double value, double* out) noexcept { return stream_peek(s, value, out); }

// update() and peek(): one bar, computed without the GIL under the stream's lock.
template <bool (*step)(stream_t&, double, double*) noexcept>
PyObject* stream_step_py(PyObject* obj, PyObject* arg) {
    double value, result = 0.0;
    if (!as_value(arg, &value)) return nullptr;
    const bool ready = locked(as_stream(obj), [&](stream_t& s) { return step(s, value, &result); });
    return to_output(ready, result);
}

PyObject* stream_update_many_py(PyObject* obj, PyObject* arg) {
    py_ptr xobj(reinterpret_cast<PyObject*>(as_f64_vector(arg, "KamaStream.update_many")));
    if (!xobj) return nullptr;
    auto* xarr = reinterpret_cast<PyArrayObject*>(xobj.get());
    const auto n = static_cast<std::size_t>(PyArray_DIM(xarr, 0));
    const auto* x = static_cast<const double*>(PyArray_DATA(xarr));
    auto* y = static_cast<double*>(alloc_buffer(n));
    if (!y) return PyErr_NoMemory();
    locked(as_stream(obj), [&](stream_t& s) { stream_update_many(s, x, n, y); });
    const npy_intp dims[1] = {static_cast<npy_intp>(n)};
    return wrap_buffer(y, 1, dims);
}

PyObject* stream_reset_py(PyObject* obj, PyObject*) {
    locked(as_stream(obj), [](stream_t& s) { stream_reset(s); });
    Py_RETURN_NONE;
}

PyObject* stream_copy_py(PyObject* obj, PyObject*) {
    StreamObject* self = as_stream(obj);
    StreamObject* twin = alloc_object(Py_TYPE(obj));
    if (!twin) return nullptr;
    if (!locked(self, [&](const stream_t& s) { return stream_copy(twin->state, s); })) {
        Py_DECREF(twin);
        return PyErr_NoMemory();
    }
    twin->period = self->period;
    twin->fast = self->fast;
    twin->slow = self->slow;
    twin->compat = self->compat;
    return reinterpret_cast<PyObject*>(twin);
}

PyObject* stream_deepcopy_py(PyObject* obj, PyObject*) { return stream_copy_py(obj, nullptr); }

// Pickle: (type, (period,), state); the state carries the options and every buffer, so an
// unpickled stream continues bit for bit.
struct scalars_t {
    Py_ssize_t seen, pos, r;
    double prefix, last, y;
};

PyObject* stream_reduce_py(PyObject* obj, PyObject*) {
    StreamObject* self = as_stream(obj);
    for (;;) {  // again if another thread's __setstate__ changed the period meanwhile
        const Py_ssize_t period = self->period;
        const std::size_t bytes = 2 * static_cast<std::size_t>(period) * sizeof(double);
        py_ptr buffers(PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(bytes)));
        if (!buffers) return nullptr;
        char* dst = PyBytes_AsString(buffers.get());
        scalars_t v;
        const bool same = locked(self, [&](const stream_t& s) {
            if (s.prm.period != static_cast<std::size_t>(period)) return false;
            std::memcpy(dst, s.ring, bytes);
            v = {static_cast<Py_ssize_t>(s.seen), static_cast<Py_ssize_t>(s.pos),
                 static_cast<Py_ssize_t>(s.r), s.prefix, s.last, s.y};
            return true;
        });
        if (!same) continue;
        return Py_BuildValue("O(n)(nnsnnnndddO)", reinterpret_cast<PyObject*>(Py_TYPE(obj)), period,
                             self->fast, self->slow, compat_name(self->compat), v.seen, v.pos, v.r,
                             period, v.prefix, v.last, v.y, buffers.get());
    }
}

PyObject* stream_setstate_py(PyObject* obj, PyObject* state) {
    StreamObject* self = as_stream(obj);
    PyObject *fast, *slow, *compat, *buffers;
    scalars_t v;
    Py_ssize_t period;
    if (!PyTuple_Check(state) ||
        !PyArg_ParseTuple(state, "OOUnnnnddd" "O!", &fast, &slow, &compat, &v.seen, &v.pos, &v.r,
                          &period, &v.prefix, &v.last, &v.y, &PyBytes_Type, &buffers)) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "KamaStream.__setstate__: malformed state");
        }
        return nullptr;
    }
    const auto p = static_cast<std::size_t>(period);
    if (period < 1 || p > PY_SSIZE_T_MAX / (2 * sizeof(double)) || v.seen < 0 ||
        static_cast<std::size_t>(v.seen) > p + 1 || v.pos < 0 || static_cast<std::size_t>(v.pos) >= p ||
        v.r < 0 || static_cast<std::size_t>(v.r) >= p ||
        PyBytes_Size(buffers) != static_cast<Py_ssize_t>(2 * p * sizeof(double))) {
        PyErr_SetString(PyExc_ValueError, "KamaStream.__setstate__: inconsistent state");
        return nullptr;
    }
    // Build the new state privately (Python code may run while parsing), then swap it in.
    options_t o;
    stream_t fresh;
    if (!parse_options(period, fast, slow, compat, &o) || !alloc_state(o, &fresh)) return nullptr;
    std::memcpy(fresh.ring, PyBytes_AsString(buffers), 2 * p * sizeof(double));
    fresh.seen = static_cast<std::size_t>(v.seen);
    fresh.pos = static_cast<std::size_t>(v.pos);
    fresh.r = static_cast<std::size_t>(v.r);
    fresh.prefix = v.prefix;
    fresh.last = v.last;
    fresh.y = v.y;
    locked(self, [&](stream_t& s) { std::swap(s, fresh); });
    stream_free(fresh);  // the old state
    set_fields(self, o);
    Py_RETURN_NONE;
}

PyObject* get_value(PyObject* obj, void*) {
    double y = 0.0;
    const bool ready = locked(as_stream(obj), [&](const stream_t& s) {
        y = s.y;
        return stream_ready(s);
    });
    return to_output(ready, y);
}
PyObject* get_ready(PyObject* obj, void*) {
    return PyBool_FromLong(locked(as_stream(obj), [](const stream_t& s) { return stream_ready(s); }));
}
PyObject* get_period(PyObject* obj, void*) { return PyLong_FromSsize_t(as_stream(obj)->period); }
PyObject* get_fast(PyObject* obj, void*) { return PyLong_FromSsize_t(as_stream(obj)->fast); }
PyObject* get_slow(PyObject* obj, void*) { return PyLong_FromSsize_t(as_stream(obj)->slow); }
PyObject* get_compat(PyObject* obj, void*) {
    return PyUnicode_FromString(compat_name(as_stream(obj)->compat));
}

PyObject* stream_repr(PyObject* obj) {
    StreamObject* self = as_stream(obj);
    return PyUnicode_FromFormat("KamaStream(period=%zd, fast=%zd, slow=%zd, compat='%s')",
                                self->period, self->fast, self->slow, compat_name(self->compat));
}

PyMethodDef stream_methods[] = {
    {"update", stream_step_py<stream_update>, METH_O,
     "update($self, value, /)\n--\n\nConsume one bar; None during warm-up, else the new value."},
    {"update_many", stream_update_many_py, METH_O,
     "update_many($self, values, /)\n--\n\nupdate() over an array; NaN during warm-up."},
    {"peek", stream_step_py<peek_step>, METH_O,
     "peek($self, value, /)\n--\n\nWhat update(value) would return, leaving the state unchanged."},
    {"reset", stream_reset_py, METH_NOARGS, "reset($self, /)\n--\n\nForget every bar seen."},
    {"copy", stream_copy_py, METH_NOARGS, "copy($self, /)\n--\n\nAn independent copy of the stream."},
    {"__copy__", stream_copy_py, METH_NOARGS, nullptr},
    {"__deepcopy__", stream_deepcopy_py, METH_O, nullptr},
    {"__reduce__", stream_reduce_py, METH_NOARGS, nullptr},
    {"__setstate__", stream_setstate_py, METH_O, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef stream_getset[] = {
    {"value", get_value, nullptr, "The last output, or None during warm-up.", nullptr},
    {"ready", get_ready, nullptr, "True once update() has produced a value.", nullptr},
    {"period", get_period, nullptr, "The efficiency-ratio window.", nullptr},
    {"fast", get_fast, nullptr, "The fast smoothing period.", nullptr},
    {"slow", get_slow, nullptr, "The slow smoothing period.", nullptr},
    {"compat", get_compat, nullptr, "'vectorta' or 'talib'.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot stream_slots[] = {
    {Py_tp_doc, const_cast<char*>(stream_doc)},
    {Py_tp_new, reinterpret_cast<void*>(stream_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(stream_dealloc)},
    {Py_tp_methods, stream_methods},
    {Py_tp_getset, stream_getset},
    {Py_tp_repr, reinterpret_cast<void*>(stream_repr)},
    {0, nullptr},
};

PyType_Spec stream_spec = {
    "kama.KamaStream",
    sizeof(StreamObject),
    0,
    Py_TPFLAGS_DEFAULT,
    stream_slots,
};

}  // namespace

PyObject* make_stream_type(PyObject* module) {
    return PyType_FromModuleAndSpec(module, &stream_spec, nullptr);
}

}  // namespace kama
