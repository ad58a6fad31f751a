// Helpers shared by the binding files: ownership, argument parsing, array conversion and the
// arrays that own C++-allocated memory.
#pragma once
#include <cstddef>
#include <memory>

#include "kernels/kernels.hpp"
#include "numpy_api.hpp"

namespace kama {

struct py_decref {
    void operator()(PyObject* o) const noexcept { Py_XDECREF(o); }
};
using py_ptr = std::unique_ptr<PyObject, py_decref>;

// Releases the GIL for its lifetime.
class gil_release {
   public:
    gil_release() noexcept : state_(PyEval_SaveThread()) {}
    ~gil_release() { PyEval_RestoreThread(state_); }
    gil_release(const gil_release&) = delete;
    gil_release& operator=(const gil_release&) = delete;

   private:
    PyThreadState* state_;
};

// ---- memory owned by result arrays -------------------------------------------------------
// 64-byte aligned; nullptr on failure or when count * itemsize overflows.
void* alloc_buffer(std::size_t count, std::size_t itemsize = sizeof(double)) noexcept;
void free_buffer(void* data) noexcept;
Py_ssize_t live_buffers() noexcept;  // buffers allocated and not yet freed (for the tests)

// An ndarray of `nd` dims over `data`, which it owns from now on (freed exactly once, also
// when this call fails). Returns nullptr with an exception set on failure.
PyObject* wrap_buffer(void* data, int nd, const npy_intp* dims, int typenum = NPY_DOUBLE);

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

// Python int (or anything with __index__) to Py_ssize_t; bools allowed as ints are. Overflow
// saturates so that range checks report it.
bool as_ssize(PyObject* obj, const char* what, Py_ssize_t* value);

// Shared keyword options of kama(), kama_batch() and KamaStream.
// Also reports the parsed integers when fast_out/slow_out are given.
bool parse_smoothing(const char* fname, PyObject* fast, PyObject* slow, params_t* prm,
                     Py_ssize_t* fast_out = nullptr, Py_ssize_t* slow_out = nullptr);
bool parse_compat(const char* fname, PyObject* obj, compat_t* compat);
// kernel=None/"auto" -> default; names checked against this build and CPU.
bool parse_kernel(PyObject* obj, kernel_fn* fn);
// threads=None -> 0 (as many as pay), else an int >= 1.
bool parse_threads(const char* fname, PyObject* obj, std::size_t* threads);
bool set_default_kernel_from_env();

// `data` as a 1-D, C-contiguous, aligned, native float64 array (new reference): float64
// contiguous arrays pass through without a copy, other numeric dtypes and strides are
// converted. TypeError for non-numeric data.
PyArrayObject* as_f64_vector(PyObject* data, const char* fname);

// Validation of a series for one period (SPEC §5). Codes are turned into exceptions by
// raise_data_error() once the GIL is held again.
enum class data_error : int { none = 0, empty, all_nan, invalid_period, not_enough, no_memory };
data_error check_series(std::size_t n, std::size_t first, Py_ssize_t period, compat_t compat) noexcept;
void raise_data_error(data_error e, const char* fname, std::size_t n, std::size_t first,
                      Py_ssize_t period);

// Module-level objects.
PyObject* py_kama(PyObject* module, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames);
PyObject* py_kama_batch(PyObject* module, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames);
extern const char kama_doc[];
extern const char kama_batch_doc[];
PyObject* make_stream_type(PyObject* module);

}  // namespace kama
