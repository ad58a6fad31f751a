// What the CPU and the OS let kama run, read once: CPUID and XGETBV on x86-64, the auxiliary
// vector on aarch64 Linux. Compiled as baseline code (cpu.cpp), so that any kernel's file may
// ask before it runs a wider instruction.
#pragma once
#include <cstddef>

#include <cstring>

// The architecture this build is for, and its name in messages about another one's kernel.
#if defined(__x86_64__) || defined(_M_X64)
#define KAMA_X86 1
#define KAMA_ARCH_NAME "x86-64"
#elif defined(__aarch64__) || defined(_M_ARM64)
#define KAMA_AARCH64 1
#define KAMA_ARCH_NAME "aarch64"
#else
#define KAMA_ARCH_NAME "this platform"
#endif

namespace kama {

struct cpu_flag_t {
    const char* name;  // as kama._kama.__cpu_features__ shows it
    bool have;
};

#if defined(KAMA_X86)
struct x86_features_t {
    bool avx2 = false, fma = false;
    bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false;
    bool os_avx = false;     // XGETBV: the OS saves YMM state
    bool os_avx512 = false;  // XGETBV: the OS saves opmask and ZMM state
};
const x86_features_t& x86_features() noexcept;
#elif defined(KAMA_AARCH64)
struct arm_features_t {
    bool asimd = false;  // Advanced SIMD (NEON): part of every ARMv8-A, still asked of the OS
};
const arm_features_t& arm_features() noexcept;
#endif

// This platform's flags, in a fixed order; *count of them (0 on a platform with no SIMD kernel).
const cpu_flag_t* cpu_flags(std::size_t* count) noexcept;

namespace {
// What a kernel needs and the machine lacks, as a list for a message: "AVX2, FMA".
struct missing_t {
    char text[160] = "";
    void need(bool have, const char* what) noexcept {
        if (have) return;
        if (text[0]) std::strncat(text, ", ", sizeof(text) - std::strlen(text) - 1);
        std::strncat(text, what, sizeof(text) - std::strlen(text) - 1);
    }
    const char* result() const noexcept { return text[0] ? text : nullptr; }
};
}  // namespace

}  // namespace kama
