// Memory owned by result arrays, and the GIL's release and return.
#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cstdlib>

#include "common.hpp"
#include "kernels/portable.hpp"
#include "kernels/glibc_symbols.hpp"  // dlsym

namespace kama {

int (*finalizing_flag)() = nullptr;

void find_finalizing_flag() noexcept {
#if defined(__unix__) || defined(__APPLE__)  // elsewhere threads are not ended by a forced unwind
    void* f = dlsym(RTLD_DEFAULT, "Py_IsFinalizing");     // 3.13 on
    if (!f) f = dlsym(RTLD_DEFAULT, "_Py_IsFinalizing");  // 3.7 to 3.12
    finalizing_flag = reinterpret_cast<int (*)()>(f);
#endif
}

void restore_thread(PyThreadState* state) noexcept {
    try {
        PyEval_RestoreThread(state);
    } catch (...) {  // the forced unwind of pthread_exit at interpreter exit (see common.hpp)
#if defined(_WIN32)
        for (;;) Sleep(INFINITE);
#else
        for (;;) pause();
#endif
    }
}

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
    p = alloc_aligned(bytes != 0 ? bytes : 64, align);
    if (!p) return nullptr;
#if defined(MADV_HUGEPAGE)
    if (bytes >= huge_from) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: failure is harmless
#endif
    live_count.fetch_add(1, std::memory_order_relaxed);
    return p;
}

void free_buffer(void* data) noexcept {
    if (!data) return;
    free_aligned(data);
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

}  // namespace kama
