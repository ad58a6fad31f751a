// What the kernels take from GCC and Clang, for MSVC too: the builtins they use (so that no
// library function is instantiated under a target region, see simd_kama.hpp) and aligned
// scratch memory. GCC and Clang see their own builtins and posix_memalign unchanged.
//
// It also includes every standard header the kernels' headers use. kernels.hpp includes it, and
// the SIMD kernels' files include kernels.hpp before their target region opens, so each standard
// header's inline functions (std::isnan, ...) are first defined, and compiled, as baseline code:
// a copy compiled for AVX could otherwise be the one the linker keeps for the scalar path.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#if defined(_WIN32)
#include <malloc.h>
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define __builtin_nan(tag) (std::numeric_limits<double>::quiet_NaN())
#define __builtin_fabs(v) (std::fabs(v))
#define __builtin_fma(a, b, c) (std::fma((a), (b), (c)))
#define __builtin_isnan(v) (std::isnan(v))
#define __builtin_isfinite(v) (std::isfinite(v))
#if defined(_M_X64)
#define __builtin_prefetch(p) (_mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0))
#else
#define __builtin_prefetch(p) ((void)(p))
#endif
#define __attribute__(list)
#endif

namespace kama {
namespace {

// `bytes` of memory aligned to `align` (a power of two, at least sizeof(void*)), or nullptr;
// free it with free_aligned.
inline void* alloc_aligned(std::size_t bytes, std::size_t align) noexcept {
#if defined(_WIN32)
    return _aligned_malloc(bytes ? bytes : 1, align);
#else
    void* p = nullptr;
    return posix_memalign(&p, align, bytes ? bytes : 1) == 0 ? p : nullptr;
#endif
}

inline void free_aligned(void* p) noexcept {
#if defined(_WIN32)
    _aligned_free(p);
#else
    std::free(p);
#endif
}

}  // namespace
}  // namespace kama
