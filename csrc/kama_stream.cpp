// KamaStream: KAMA bar by bar, bit for bit the scalar kernel's result.
//
// The options (period, fast, slow, compat) and the state are one unit, read and written
// together under a per-object mutex. O(1) calls (update, peek, the getters, copy, pickling) run
// with the GIL held, as releasing it would cost more than the bar (SPEC §6); update_many runs
// without it. The rules that keep the two locks from deadlocking: no thread blocks on the mutex
// while it holds the GIL (it only tries it), no thread waits for the GIL while it holds the
// mutex, and no Python code runs while the mutex is held (nor in the lock-free window below).
//
// The common case takes no lock at all: every call that will touch the unit without the GIL
// counts itself in `busy` while it still holds the GIL, and counts itself out (release) when it
// is done. An O(1) call that holds the GIL and reads busy == 0 (acquire) knows that nobody is
// touching the unit and nobody can start to until it lets the GIL go; so it works right there.
// This needs a GIL: the stable ABI that kama builds for has one (Python.h refuses a
// free-threaded build with Py_LIMITED_API), and the check below keeps it so.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <mutex>
#include <thread>
#include <new>
#include <utility>

#include "common.hpp"
#include "kernels/glibc_symbols.hpp"

#ifdef Py_GIL_DISABLED
#error "KamaStream's lock-free O(1) path relies on the GIL: a free-threaded build needs the mutex on every call"
#endif  // pthread symbols at the oldest versions

namespace kama {
namespace {

// What a stream is: the state, and the options it was made with (period and compat are
// state.prm's; fast and slow are kept as given, since the constants do not invert exactly).
struct unit_t {
    stream_t state;
    Py_ssize_t fast, slow;
};

// The stream's lock. O(1) callers that had to block on it count themselves in `waiting`, and
// update_many lets them go first: a mutex is not fair, and a thread feeding update_many in a
// loop would otherwise take it again before a woken reader runs, for as long as the loop lasts.
struct lock_t {
    std::mutex mutex;
    std::atomic<int> waiting{0};  // O(1) callers blocked on (or about to block on) the mutex
    std::atomic<int> busy{0};     // calls that touch (or are about to touch) the unit without the GIL
};

// Counts a call in lock.busy for its lifetime; made while the GIL is held.
class busy_mark {
   public:
    explicit busy_mark(lock_t& lock) noexcept : lock_(lock) { lock_.busy.fetch_add(1, std::memory_order_relaxed); }
    ~busy_mark() { lock_.busy.fetch_sub(1, std::memory_order_release); }
    busy_mark(const busy_mark&) = delete;
    busy_mark& operator=(const busy_mark&) = delete;

   private:
    lock_t& lock_;
};

struct StreamObject {
    PyObject_HEAD
    unit_t unit;  // under lock->mutex
    lock_t* lock;
};

inline StreamObject* as_stream(PyObject* self) { return reinterpret_cast<StreamObject*>(self); }

// Runs f(unit) under the stream's lock with the GIL released (for work over an array), after
// the O(1) callers waiting for the lock.
template <class F>
auto without_gil_locked(StreamObject* self, F&& f) {
    lock_t& lock = *self->lock;
    busy_mark mark(lock);  // before the GIL goes; counted out after the mutex is released
    gil_release nogil;
    std::unique_lock<std::mutex> guard(lock.mutex);  // released before the GIL is taken back
    // Blocked above while another call holds the mutex; here a waiter is about to take it.
    while (lock.waiting.load(std::memory_order_acquire) > 0) {
        guard.unlock();
        std::this_thread::yield();
        guard.lock();
    }
    return f(self->unit);
}

// Runs f(unit) for O(1) work, the caller holding the GIL: right there when no call is busy
// with the unit without the GIL, else (another thread's update_many, or a waiter) waiting for
// the mutex and working with the GIL released. f is plain C++, so either way is safe.
template <class F>
auto locked(StreamObject* self, F&& f) {
    lock_t& lock = *self->lock;
    if (lock.busy.load(std::memory_order_acquire) == 0) return f(self->unit);
    std::mutex& mutex = lock.mutex;
    // A call in flight outside the GIL may not hold the mutex right now (it is about to take
    // it, or has let it go and waits for the GIL): every touch of the unit without the GIL is
    // under the mutex, so holding it is enough, and waiting out the whole call is not needed.
    if (mutex.try_lock()) {
        std::lock_guard<std::mutex> guard(mutex, std::adopt_lock);
        return f(self->unit);
    }
    busy_mark mark(lock);  // a waiter touches the unit without the GIL too
    gil_release nogil;
    lock.waiting.fetch_add(1, std::memory_order_acq_rel);
    mutex.lock();
    lock.waiting.fetch_sub(1, std::memory_order_acq_rel);
    std::lock_guard<std::mutex> guard(mutex, std::adopt_lock);
    return f(self->unit);
}

const char stream_doc[] =
    "KamaStream(period=30, *, fast=2, slow=30, compat='vectorta', unstable_period=0, nan_policy='propagate')\n"
    "--\n\n"
    "KAMA one bar at a time, equal bit for bit to kama(..., kernel='scalar') over the same bars.\n\n"
    "update(value) returns None during the warm-up, then the new KAMA value. Leading NaNs are\n"
    "skipped; a NaN after the first value propagates, as in kama(), unless nan_policy='skip':\n"
    "then update(nan) returns None and leaves the state as it was.\n\n"
    ">>> import kama\n"
    ">>> s = kama.KamaStream(2)\n"
    ">>> [s.update(v) for v in (1.0, 2.0, 3.0)]\n"
    "[None, None, 3.0]\n";


PyObject* to_output(bool ready, double value) {
    if (!ready) Py_RETURN_NONE;
    return PyFloat_FromDouble(value);
}

// A unit of its own (a snapshot, or one being built) that frees its state.
struct owned_unit {
    unit_t unit{};
    bool live = false;
    owned_unit() { unit.state.ring = unit.state.blocks = nullptr; }
    ~owned_unit() {
        if (live) stream_free(unit.state);
    }
    owned_unit(const owned_unit&) = delete;
    owned_unit& operator=(const owned_unit&) = delete;
};

const char* const stream_name = "KamaStream";

void raise_state_no_memory(Py_ssize_t period) {
    char what[96];
    std::snprintf(what, sizeof(what), "the state of period %zd", period);
    raise_no_memory(stream_name, 2.0 * sizeof(double) * static_cast<double>(period), what);
}

// The period of a stream: an integer >= 1.
bool parse_stream_period(PyObject* obj, period_arg* period) {
    if (!parse_period(obj, period)) return false;
    if (period->value >= 1 && period->exact()) return true;
    py_ptr text(quote_int(period->inexact, period->value));
    if (text) PyErr_Format(PyExc_ValueError, "KamaStream: Invalid period: period = %U", text.get());
    return false;
}

// A fresh unit from the options as given by Python (parsing may run Python code: call it
// without the lock).
bool make_unit(const period_arg& period, PyObject* fast, PyObject* slow, PyObject* compat, PyObject* unstable,
               PyObject* nan_policy, owned_unit* o) {
    params_t prm{};
    if (!parse_smoothing(stream_name, fast, slow, &prm, &o->unit.fast, &o->unit.slow) ||
        !parse_compat(stream_name, compat, &prm.compat) || !parse_unstable(stream_name, unstable, &prm.unstable) ||
        !parse_nan_policy(stream_name, nan_policy, &prm.skip_nan))
        return false;
    prm.period = static_cast<std::size_t>(period.value);
    if (prm.period > PY_SSIZE_T_MAX / (2 * sizeof(double)) || !stream_init(o->unit.state, prm)) {
        raise_state_no_memory(period.value);
        return false;
    }
    o->live = true;
    return true;
}

// Copies src (under its lock) into the empty dst; false when memory is short.
bool copy_unit(unit_t& dst, const unit_t& src) noexcept {
    if (!stream_copy(dst.state, src.state)) return false;
    dst.fast = src.fast;
    dst.slow = src.slow;
    return true;
}

// Gives o's unit to the new object self (whose own unit is empty).
void adopt(StreamObject* self, owned_unit* o) {
    std::swap(self->unit, o->unit);
    o->live = false;
}

// A new, empty object of `type` with its lock; nullptr with an exception on failure.
StreamObject* alloc_object(PyTypeObject* type) {
    auto* self = reinterpret_cast<StreamObject*>(PyType_GenericAlloc(type, 0));
    if (!self) return nullptr;
    self->unit.state.ring = self->unit.state.blocks = nullptr;
    self->lock = new (std::nothrow) lock_t();
    if (!self->lock) {
        Py_DECREF(self);
        PyErr_NoMemory();
        return nullptr;
    }
    return self;
}

const char* const new_names[] = {"period", "fast", "slow", "compat", "unstable_period", "nan_policy", nullptr};
arg_parser new_args{"KamaStream()", new_names, 1, 0};

PyObject* stream_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    // tp_new receives a tuple and a dict; flatten them for the FASTCALL parser.
    Py_ssize_t nargs = PyTuple_Size(args);
    Py_ssize_t nkw = kwargs ? PyDict_Size(kwargs) : 0;
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "KamaStream() takes at most 1 positional argument (%zd given)", nargs);
        return nullptr;
    }
    PyObject* flat[7];
    py_ptr kwnames(nkw ? PyTuple_New(nkw) : nullptr);
    if (nkw && !kwnames) return nullptr;
    for (Py_ssize_t i = 0; i < nargs; ++i) flat[i] = PyTuple_GetItem(args, i);
    if (nkw) {
        if (nkw > 6) {
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
    PyObject* a[6];
    if (!new_args.parse(flat, nargs, kwnames.get(), a)) return nullptr;
    period_arg period;
    owned_unit o;
    if (!parse_stream_period(a[0], &period) || !make_unit(period, a[1], a[2], a[3], a[4], a[5], &o)) return nullptr;
    StreamObject* self = alloc_object(type);
    if (!self) return nullptr;
    adopt(self, &o);  // no other thread can see self yet
    return reinterpret_cast<PyObject*>(self);
}

void stream_dealloc(PyObject* obj) {
    StreamObject* self = as_stream(obj);
    PyTypeObject* type = Py_TYPE(obj);
    stream_free(self->unit.state);
    delete self->lock;
    reinterpret_cast<freefunc>(PyType_GetSlot(type, Py_tp_free))(obj);
    Py_DECREF(type);  // heap type instances hold a reference to their type
}

bool as_value(PyObject* obj, double* value) {
    *value = PyFloat_AsDouble(obj);
    return !(*value == -1.0 && PyErr_Occurred());
}

bool peek_step(stream_t& s, double value, double* out) noexcept { return stream_peek(s, value, out); }

// update() and peek(): one bar, under the stream's lock with the GIL held.
template <bool (*step)(stream_t&, double, double*) noexcept>
PyObject* stream_step_py(PyObject* obj, PyObject* arg) {
    double value, result = 0.0;
    if (!as_value(arg, &value)) return nullptr;
    const bool ready = locked(as_stream(obj), [&](unit_t& u) { return step(u.state, value, &result); });
    return to_output(ready, result);
}

const char* const update_many_names[] = {"values", "out", nullptr};
arg_parser update_many_args{"KamaStream.update_many()", update_many_names, 1, 1};

// update_many(values, /, *, out=None). out= (as in kama()): a writable, C-contiguous float64
// array of the values' length, filled and returned; one that overlaps the values is filled
// through a buffer. The state advances only once out= has been accepted.
PyObject* stream_update_many_py(PyObject* obj, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* a[2];
    if (!update_many_args.parse(args, nargs, kwnames, a)) return nullptr;
    PyObject* arg = a[0];
    PyObject* out = a[1] == Py_None ? nullptr : a[1];
    if (!PyArray_Check(arg) && is_frame(arg)) {
        if (out) {
            PyErr_SetString(PyExc_TypeError, "KamaStream.update_many: out= needs a numpy array of values");
            return nullptr;
        }
        return call_frames("update_many", obj, &arg, 1, nullptr);
    }
    py_ptr xobj(reinterpret_cast<PyObject*>(as_f64_vector(arg, "KamaStream.update_many")));
    if (!xobj) return nullptr;
    auto* xarr = reinterpret_cast<PyArrayObject*>(xobj.get());
    const auto n = static_cast<std::size_t>(PyArray_DIM(xarr, 0));
    const auto* x = static_cast<const double*>(PyArray_DATA(xarr));
    PyArrayObject* oarr = nullptr;
    if (out) {
        if (!PyArray_Check(out)) {
            py_ptr tn(type_name(out));
            PyErr_Format(PyExc_TypeError, "KamaStream.update_many: out must be a numpy.ndarray, not %V", tn.get(), "?");
            return nullptr;
        }
        oarr = reinterpret_cast<PyArrayObject*>(out);
        if (PyArray_TYPE(oarr) != NPY_DOUBLE || !PyArray_ISNOTSWAPPED(oarr)) {
            PyErr_Format(PyExc_TypeError, "KamaStream.update_many: out must have dtype float64 (native byte order), got %R",
                         reinterpret_cast<PyObject*>(PyArray_DESCR(oarr)));
            return nullptr;
        }
        if (!PyArray_ISWRITEABLE(oarr)) {
            PyErr_SetString(PyExc_ValueError, "KamaStream.update_many: out is read-only");
            return nullptr;
        }
        if (PyArray_NDIM(oarr) != 1 || static_cast<std::size_t>(PyArray_DIM(oarr, 0)) != n) {
            PyErr_Format(PyExc_ValueError, "KamaStream.update_many: out must have the values' shape (%zd,)",
                         static_cast<Py_ssize_t>(n));
            return nullptr;
        }
        if (!PyArray_IS_C_CONTIGUOUS(oarr)) {
            PyErr_SetString(PyExc_ValueError, "KamaStream.update_many: out must be C-contiguous");
            return nullptr;
        }
    }
    auto* direct = static_cast<double*>(oarr ? PyArray_DATA(oarr) : nullptr);
    const bool apart = direct && (direct + n <= x || x + n <= direct);
    auto* y = apart ? direct : static_cast<double*>(alloc_buffer(n));
    if (!y) {
        raise_array_no_memory("KamaStream.update_many", 1, &n);
        return nullptr;
    }
    without_gil_locked(as_stream(obj), [&](unit_t& u) {
        stream_update_many(u.state, x, n, y);
        if (direct && !apart && n) std::memcpy(direct, y, n * sizeof(double));
    });
    if (oarr) {
        if (!apart) free_buffer(y);
        Py_INCREF(out);
        return out;
    }
    const npy_intp dims[1] = {static_cast<npy_intp>(n)};
    return wrap_buffer(y, 1, dims);
}

PyObject* stream_reset_py(PyObject* obj, PyObject*) {
    locked(as_stream(obj), [](unit_t& u) { stream_reset(u.state); });
    Py_RETURN_NONE;
}

// The unit as it is now, options and state together, copied out under the lock.
bool snapshot(StreamObject* self, owned_unit* o) {
    std::size_t period = 0;
    o->live = locked(self, [&](const unit_t& u) {
        period = u.state.prm.period;
        return copy_unit(o->unit, u);
    });
    if (!o->live) raise_state_no_memory(static_cast<Py_ssize_t>(period));
    return o->live;
}

PyObject* stream_copy_py(PyObject* obj, PyObject*) {
    StreamObject* twin = alloc_object(Py_TYPE(obj));
    if (!twin) return nullptr;
    owned_unit o;
    if (!snapshot(as_stream(obj), &o)) {
        Py_DECREF(twin);
        return nullptr;
    }
    adopt(twin, &o);
    return reinterpret_cast<PyObject*>(twin);
}

PyObject* stream_deepcopy_py(PyObject* obj, PyObject*) { return stream_copy_py(obj, nullptr); }

// Pickle: (type, (period,), state); the state carries the options and every buffer, so an
// unpickled stream continues bit for bit:
// (fast, slow, compat, seen, pos, r, period, prefix, last, y, bytes of ring and blocks,
//  unstable_period, outputs muted so far, nan_policy). kama 0.1.0 wrote the first 11 (no unstable
//  period), the first release with it the first 13 (no nan_policy).
PyObject* stream_reduce_py(PyObject* obj, PyObject*) {
    owned_unit o;
    if (!snapshot(as_stream(obj), &o)) return nullptr;
    const stream_t& s = o.unit.state;
    const auto period = static_cast<Py_ssize_t>(s.prm.period);
    py_ptr buffers(PyBytes_FromStringAndSize(reinterpret_cast<const char*>(s.ring),
                                             static_cast<Py_ssize_t>(2 * s.prm.period * sizeof(double))));
    if (!buffers) return nullptr;
    return Py_BuildValue("O(n)(nnsnnnndddOnns)", reinterpret_cast<PyObject*>(Py_TYPE(obj)), period,
                         o.unit.fast, o.unit.slow, compat_name(s.prm.compat), static_cast<Py_ssize_t>(s.seen),
                         static_cast<Py_ssize_t>(s.pos), static_cast<Py_ssize_t>(s.r), period, s.prefix,
                         s.last, s.y, buffers.get(), static_cast<Py_ssize_t>(s.prm.unstable),
                         static_cast<Py_ssize_t>(s.muted), s.prm.skip_nan ? "skip" : "propagate");
}

// Any fault in a state is a ValueError "malformed state" (SPEC §5), with the detail after it;
// only a MemoryError stays what it is.
PyObject* malformed_state(const char* detail) {
    if (PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError)) return nullptr;
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        py_ptr t(type), v(value), b(tb);
        py_ptr text(v ? PyObject_Str(v.get()) : nullptr);
        if (text) {
            PyErr_Format(PyExc_ValueError, "KamaStream.__setstate__: malformed state (%U)", text.get());
            return nullptr;
        }
        PyErr_Clear();
    }
    PyErr_Format(PyExc_ValueError, "KamaStream.__setstate__: malformed state (%s)", detail);
    return nullptr;
}

PyObject* stream_setstate_py(PyObject* obj, PyObject* state) {
    const Py_ssize_t size = PyTuple_Check(state) ? PyTuple_Size(state) : 0;
    if (size != 11 && size != 13 && size != 14)
        return malformed_state("not a 14-tuple (or an earlier kama's 11- or 13-tuple)");
    auto item = [state](Py_ssize_t k) { return PyTuple_GetItem(state, k); };
    // Everything is checked against the period before any memory of its size is taken.
    period_arg period;
    if (!parse_stream_period(item(6), &period)) return malformed_state("period");
    const auto p = static_cast<std::size_t>(period.value);
    PyObject* buffers = item(10);
    if (!PyBytes_Check(buffers) || p > PY_SSIZE_T_MAX / (2 * sizeof(double)) ||
        PyBytes_Size(buffers) != static_cast<Py_ssize_t>(2 * p * sizeof(double)))
        return malformed_state("the buffers must be bytes of 16 * period");
    Py_ssize_t counters[3];  // seen, pos, r
    const std::size_t limits[3] = {p + 1, p - 1, p - 1};
    for (int k = 0; k < 3; ++k) {
        py_ptr inexact;
        if (!as_ssize(item(3 + k), "a counter", &counters[k], &inexact)) return malformed_state("counters");
        if (inexact || counters[k] < 0 || static_cast<std::size_t>(counters[k]) > limits[k])
            return malformed_state("a counter out of range");
    }
    double scalars[3];  // prefix, last, y
    for (int k = 0; k < 3; ++k) {
        if (!PyFloat_Check(item(7 + k))) return malformed_state("prefix, last and y must be floats");
        scalars[k] = PyFloat_AsDouble(item(7 + k));
    }
    owned_unit o;
    if (!make_unit(period, item(0), item(1), item(2), size >= 13 ? item(11) : nullptr, size == 14 ? item(13) : nullptr, &o))
        return malformed_state("options");
    stream_t& f = o.unit.state;
    // kama 0.1.0's states have no unstable period: a stream that gave outputs counts one.
    const bool gave = stream_has_output(f.prm, static_cast<std::size_t>(counters[0]));
    Py_ssize_t muted = size == 11 && gave ? 1 : 0;
    if (size >= 13) {
        py_ptr inexact;
        if (!as_ssize(item(12), "a counter", &muted, &inexact)) return malformed_state("counters");
        if (inexact || muted < 0 || static_cast<std::size_t>(muted) > f.prm.unstable + 1)
            return malformed_state("a counter out of range");
        if ((muted > 0) != gave) return malformed_state("the output count contradicts the values seen");
    }
    f.muted = static_cast<std::size_t>(muted);
    std::memcpy(f.ring, PyBytes_AsString(buffers), 2 * p * sizeof(double));
    f.seen = static_cast<std::size_t>(counters[0]);
    f.pos = static_cast<std::size_t>(counters[1]);
    f.r = static_cast<std::size_t>(counters[2]);
    f.prefix = scalars[0];
    f.last = scalars[1];
    f.y = scalars[2];
    // Options and state change together; the old unit is freed by o.
    locked(as_stream(obj), [&](unit_t& u) { std::swap(u, o.unit); });
    Py_RETURN_NONE;
}

PyObject* get_value(PyObject* obj, void*) {
    double y = 0.0;
    const bool ready = locked(as_stream(obj), [&](const unit_t& u) {
        y = u.state.y;
        return stream_ready(u.state);
    });
    return to_output(ready, y);
}
PyObject* get_ready(PyObject* obj, void*) {
    return PyBool_FromLong(locked(as_stream(obj), [](const unit_t& u) { return stream_ready(u.state); }));
}
PyObject* get_period(PyObject* obj, void*) {
    return PyLong_FromSize_t(locked(as_stream(obj), [](const unit_t& u) { return u.state.prm.period; }));
}
PyObject* get_fast(PyObject* obj, void*) {
    return PyLong_FromSsize_t(locked(as_stream(obj), [](const unit_t& u) { return u.fast; }));
}
PyObject* get_slow(PyObject* obj, void*) {
    return PyLong_FromSsize_t(locked(as_stream(obj), [](const unit_t& u) { return u.slow; }));
}
PyObject* get_unstable(PyObject* obj, void*) {
    return PyLong_FromSize_t(locked(as_stream(obj), [](const unit_t& u) { return u.state.prm.unstable; }));
}
PyObject* get_nan_policy(PyObject* obj, void*) {
    return PyUnicode_FromString(locked(as_stream(obj), [](const unit_t& u) { return u.state.prm.skip_nan; }) ? "skip"
                                                                                                          : "propagate");
}
PyObject* get_compat(PyObject* obj, void*) {
    return PyUnicode_FromString(compat_name(locked(as_stream(obj), [](const unit_t& u) { return u.state.prm.compat; })));
}

PyObject* stream_repr(PyObject* obj) {
    struct { std::size_t period, unstable; Py_ssize_t fast, slow; compat_t compat; bool skip; } v;
    locked(as_stream(obj), [&](const unit_t& u) {
        v = {u.state.prm.period, u.state.prm.unstable, u.fast, u.slow, u.state.prm.compat, u.state.prm.skip_nan};
    });
    // The options that differ from their defaults after compat, as a constructor call.
    char extra[96] = "";
    int at = 0;
    if (v.unstable) at = std::snprintf(extra, sizeof(extra), ", unstable_period=%zu", v.unstable);
    if (v.skip) std::snprintf(extra + at, sizeof(extra) - static_cast<std::size_t>(at), ", nan_policy='skip'");
    return PyUnicode_FromFormat("KamaStream(period=%zu, fast=%zd, slow=%zd, compat='%s'%s)", v.period, v.fast,
                                v.slow, compat_name(v.compat), extra);
}

PyMethodDef stream_methods[] = {
    {"update", stream_step_py<stream_update>, METH_O,
     "update($self, value, /)\n--\n\nConsume one bar; None during warm-up, else the new value."},
    {"update_many", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(stream_update_many_py)),
     METH_FASTCALL | METH_KEYWORDS,
     "update_many($self, values, /, *, out=None)\n--\n\nupdate() over an array; NaN during warm-up.\n"
     "out: a writable, C-contiguous float64 array of the values' length to fill and return."},
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
    {"compat", get_compat, nullptr, "'vectorta', 'talib', 'tulipy' or 'pandas_ta'.", nullptr},
    {"unstable_period", get_unstable, nullptr, "Outputs muted to None from the first on.", nullptr},
    {"nan_policy", get_nan_policy, nullptr, "'propagate' or 'skip' (a NaN bar gives None and is left out).", nullptr},
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
