// Helpers shared by the binding files: ownership, argument parsing, array conversion and the
// arrays that own C++-allocated memory.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"
#include "numpy_api.hpp"

namespace kama {

// Whether the interpreter is finalizing: CPython's own flag, safe to read without the GIL.
// Once it is set, CPython (< 3.14) ends a daemon thread that asks for the GIL with
// pthread_exit, also from inside NumPy or Python code that kama called, and that forced unwind
// runs the destructors below without the GIL: they leave their objects to the exiting process.
// The flag's reader is not in the limited API before 3.13; find_finalizing_flag() looks it up.
extern int (*finalizing_flag)();
void find_finalizing_flag() noexcept;
inline bool interpreter_finalizing() noexcept { return finalizing_flag && finalizing_flag(); }

struct py_decref {
    void operator()(PyObject* o) const noexcept {
        if (!interpreter_finalizing()) Py_XDECREF(o);
    }
};
using py_ptr = std::unique_ptr<PyObject, py_decref>;

// Re-takes the GIL. CPython before 3.14 ends a thread that asks for the GIL while the
// interpreter finalizes (a daemon thread inside a call at exit) with pthread_exit, a forced
// unwind: through a destructor (noexcept) it would abort the process, and past it the callers'
// destructors would Py_DECREF without the GIL. So that thread stops here for good, as CPython
// 3.14 stops it itself: the process is exiting.
void restore_thread(PyThreadState* state) noexcept;

// Releases the GIL for its lifetime.
class gil_release {
   public:
    gil_release() noexcept : state_(PyEval_SaveThread()) {}
    ~gil_release() { restore_thread(state_); }
    gil_release(const gil_release&) = delete;
    gil_release& operator=(const gil_release&) = delete;

   private:
    PyThreadState* state_;
};

// The name of obj's type for messages (a new reference; nullptr, error cleared, if it has
// none). The limited API hides tp_name; use it with %V and a fallback string.
inline PyObject* type_name(PyObject* obj) {
    PyObject* name = PyObject_GetAttrString(reinterpret_cast<PyObject*>(Py_TYPE(obj)), "__qualname__");
    if (!name) PyErr_Clear();
    return name;
}

// ---- memory owned by result arrays -------------------------------------------------------
// 64-byte aligned; nullptr on failure or when count * itemsize overflows.
void* alloc_buffer(std::size_t count, std::size_t itemsize = sizeof(double)) noexcept;
void free_buffer(void* data) noexcept;
Py_ssize_t live_buffers() noexcept;  // buffers allocated and not yet freed (for the tests)

// An ndarray of `nd` dims over `data`, which it owns from now on (freed exactly once, also
// when this call fails). Returns nullptr with an exception set on failure.
PyObject* wrap_buffer(void* data, int nd, const npy_intp* dims, int typenum = NPY_DOUBLE);

// ---- pandas and polars (frames.cpp) ----------------------------------------------------------
// Whether obj is a pandas or polars object (its type's module says so); never for an ndarray.
bool is_frame(PyObject* obj);
// kama._frames.<function>([self,] *args, **kwargs) from a FASTCALL argument vector.
PyObject* call_frames(const char* function, PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                      PyObject* kwnames);

// ---- arguments -----------------------------------------------------------------------------
// A METH_FASTCALL | METH_KEYWORDS parser with the keyword names interned once.
struct arg_parser {
    const char* fname;         // for messages, e.g. "kama()"
    const char* const* names;  // nullptr-terminated
    int max_positional;
    int required;              // leading parameters that must be given
    PyObject** interned = nullptr;
    int count = 0;

    // Fills out[0..count) with borrowed references (nullptr where not given).
    bool parse(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** out);
};

// Python int (or anything with __index__, called once) to Py_ssize_t; bools allowed as ints
// are. A value outside Py_ssize_t saturates; *inexact (when given) then holds the int itself,
// for messages (SPEC §5: quote the caller's value, not a clamped one).
bool as_ssize(PyObject* obj, const char* what, Py_ssize_t* value, py_ptr* inexact = nullptr);
// The integer for a message (new reference): str(*inexact) when set, else `value`.
PyObject* quote_int(const py_ptr& inexact, Py_ssize_t value);

// A period as the caller gave it. A period outside Py_ssize_t is invalid in every mode.
struct period_arg {
    Py_ssize_t value = 30;
    py_ptr inexact;  // the caller's int when it does not fit
    bool exact() const { return !inexact; }
};
bool parse_period(PyObject* obj, period_arg* period);

// Shared keyword options of kama(), kama_batch() and KamaStream.
// Also reports the parsed integers when fast_out/slow_out are given.
bool parse_smoothing(const char* fname, PyObject* fast, PyObject* slow, params_t* prm,
                     Py_ssize_t* fast_out = nullptr, Py_ssize_t* slow_out = nullptr);
bool parse_compat(const char* fname, PyObject* obj, compat_t* compat);
const char* compat_name(compat_t c);  // the name parse_compat takes
// unstable_period: an integer >= 0 (default 0).
bool parse_unstable(const char* fname, PyObject* obj, std::size_t* unstable);
bool parse_nan_policy(const char* fname, PyObject* obj, bool* skip);  // "propagate" or "skip"
// kernel=None/"auto" -> default; names checked against this build and CPU.
bool parse_kernel(PyObject* obj, kernel_fn* fn);
// threads=None -> 0 (as many as pay), else an int >= 1.
bool parse_threads(const char* fname, PyObject* obj, std::size_t* threads);
bool set_default_kernel_from_env();

// `data` as a 1-D, C-contiguous, aligned, native float64 array (new reference): float64
// contiguous arrays pass through without a copy, other numeric dtypes and strides are
// converted. TypeError for non-numeric data.
PyArrayObject* as_f64_vector(PyObject* data, const char* fname);
// The same for data of 1 or 2 dimensions: a 2-D result holds one series per row, the input
// transposed first when the series run along axis 0. *two_d tells which; *axis is normalised.
PyArrayObject* as_f64_series(PyObject* data, const char* fname, Py_ssize_t* axis, bool* two_d);

// Validation of a series for one period (SPEC §5). Codes are turned into exceptions by
// raise_data_error() once the GIL is held again.
enum class data_error : int { none = 0, empty, all_nan, invalid_period, not_enough, no_memory };
data_error check_series(std::size_t n, std::size_t first, const period_arg& period, compat_t compat) noexcept;
// The `first` that check_series and raise_data_error take for a series: its first valid index,
// or with nan_policy="skip" n - (its number of valid values), so that n - first counts them.
inline std::size_t valid_start(const double* x, std::size_t n, std::size_t first, const params_t& prm) noexcept {
    return prm.skip_nan && first < n ? n - count_valid(x + first, n - first) : first;
}
// no_memory is raised by the raise_*_no_memory functions below, which know what was asked for.
void raise_data_error(data_error e, const char* fname, std::size_t n, std::size_t first,
                      const period_arg& period, compat_t compat);

// ---- memory errors, in NumPy's words ---------------------------------------------------------
// "<fname>: Unable to allocate 7.63 MiB for an array with shape (1000000,) and data type float64"
void raise_array_no_memory(const char* fname, int nd, const std::size_t* dims, const char* dtype = "float64");
// "<fname>: Unable to allocate <bytes> for <what>" (bytes may exceed any size_t).
void raise_no_memory(const char* fname, double bytes, const char* what);
// "<fname>: Unable to allocate <16 * valid bytes> for the series without its missing values"
void raise_packed_no_memory(const char* fname, std::size_t valid);
// "<fname>: Unable to allocate the kernel's scratch memory for period <p>"
void raise_scratch_no_memory(const char* fname, Py_ssize_t period);

// ---- many series ---------------------------------------------------------------------------
// Runs row(k) for k in [0, count) on `workers` threads. Workers take the rows in runs of
// about count / (16 * workers) from a shared counter, so that rows of unequal work (a group of
// series against a lone one, a long period against a short one) still spread evenly; which
// worker runs a row never changes its result. row(k) must touch only row k's output; returns
// false if any row returned false. Call it without the GIL.
template <class F>
bool run_rows(std::size_t count, std::size_t workers, F&& row) {
    struct ctx_t {
        F* row;
        std::size_t count, workers, run;
        std::atomic<std::size_t> next;
        bool failed[256];
    } ctx{&row, count, workers, count, {0}, {}};
    if (ctx.workers > 256) ctx.workers = 256;
    if (ctx.workers > 1) ctx.run = count / (16 * ctx.workers);
    if (ctx.run == 0) ctx.run = 1;
    run_tasks(ctx.workers, [](void* raw, std::size_t w) {
        auto* c = static_cast<ctx_t*>(raw);
        for (;;) {
            const std::size_t lo = c->next.fetch_add(c->run, std::memory_order_relaxed);
            if (lo >= c->count) return;
            const std::size_t hi = c->count - lo < c->run ? c->count : lo + c->run;
            for (std::size_t k = lo; k < hi; ++k)
                if (!(*c->row)(k)) c->failed[w] = true;
        }
    }, &ctx);
    for (std::size_t w = 0; w < ctx.workers; ++w)
        if (ctx.failed[w]) return false;
    return true;
}

// 2-D kama() with a kernel that has a many-series variant (`many`, `lanes` series a call):
// whether it pays here, and the run. A series run in a group (at least `lanes` series share its
// first valid index) equals run_series with the scalar kernel bit for bit; any other equals
// run_series with `kernel`. firsts[k]: series k's first valid index. False when scratch memory
// ran out (y may be partly written). `threads` as kama() takes it. Call it without the GIL.
bool panel_pays(std::size_t rows, std::size_t lanes, const params_t& prm) noexcept;
bool run_panel(kernel_fn kernel, rows_fn many, std::size_t lanes, const double* x, std::size_t rows, std::size_t n,
               const std::size_t* firsts, const params_t& prm, std::size_t threads, double* y) noexcept;

// kama_batch of `series` series (rows of x) over periods[0..rows) with a kernel that has a
// many-period variant: whether it pays, and the run into values (series * rows rows of n), equal
// to run_series with the scalar kernel on every row bit for bit. False when scratch memory ran
// out. Call it without the GIL.
bool sweep_pays(std::size_t rows, std::size_t lanes, const params_t& prm) noexcept;
bool run_sweeps(sweep_fn many, std::size_t lanes, const double* x, std::size_t series, std::size_t n,
                const std::size_t* firsts, const std::uint64_t* periods, std::size_t rows, const params_t& prm,
                std::size_t threads, double* values) noexcept;

// Module-level objects.
PyObject* py_kama(PyObject* module, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames);
PyObject* py_kama_batch(PyObject* module, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames);
extern const char kama_doc[];
extern const char kama_batch_doc[];
PyObject* make_stream_type(PyObject* module);

}  // namespace kama
