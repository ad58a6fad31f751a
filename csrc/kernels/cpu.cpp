#include "cpu.hpp"

#if defined(KAMA_X86)
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#include <cstdint>
#elif defined(KAMA_AARCH64) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#endif

namespace kama {
namespace {

#if defined(KAMA_X86)
bool cpuid(unsigned leaf, unsigned sub, unsigned r[4]) noexcept {  // eax, ebx, ecx, edx
#if defined(_MSC_VER)
    int max[4], out[4];
    __cpuid(max, static_cast<int>(leaf & 0x80000000u));
    if (static_cast<unsigned>(max[0]) < leaf) return false;
    __cpuidex(out, static_cast<int>(leaf), static_cast<int>(sub));
    for (int k = 0; k < 4; ++k) r[k] = static_cast<unsigned>(out[k]);
    return true;
#else
    return __get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]) != 0;
#endif
}

std::uint64_t read_xcr0() noexcept {
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    std::uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<std::uint64_t>(edx) << 32) | eax;
#endif
}

x86_features_t detect() noexcept {
    x86_features_t f;
    unsigned r[4];
    if (!cpuid(1, 0, r)) return f;
    const bool osxsave = r[2] & (1u << 27);
    f.fma = r[2] & (1u << 12);
    if (osxsave) {
        const std::uint64_t xcr0 = read_xcr0();
        f.os_avx = (xcr0 & 0x6) == 0x6;       // XMM and YMM state
        f.os_avx512 = (xcr0 & 0xE6) == 0xE6;  // plus opmask, ZMM_Hi256, Hi16_ZMM
    }
    if (cpuid(7, 0, r)) {
        f.avx2 = r[1] & (1u << 5);
        f.avx512f = r[1] & (1u << 16);
        f.avx512dq = r[1] & (1u << 17);
        f.avx512bw = r[1] & (1u << 30);
        f.avx512vl = r[1] & (1u << 31);
    }
    return f;
}
#elif defined(KAMA_AARCH64)
arm_features_t detect() noexcept {
    arm_features_t f;
#if defined(__linux__)
    f.asimd = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#else
    f.asimd = true;  // macOS and Windows on ARM run only on cores that have it
#endif
    return f;
}
#endif

}  // namespace

#if defined(KAMA_X86)
const x86_features_t& x86_features() noexcept {
    static const x86_features_t features = detect();
    return features;
}

const cpu_flag_t* cpu_flags(std::size_t* count) noexcept {
    static const x86_features_t& f = x86_features();
    static const cpu_flag_t flags[] = {
        {"AVX2", f.avx2},         {"FMA", f.fma},           {"AVX512F", f.avx512f},
        {"AVX512DQ", f.avx512dq}, {"AVX512BW", f.avx512bw}, {"AVX512VL", f.avx512vl},
        {"OS_AVX", f.os_avx},     {"OS_AVX512", f.os_avx512},
    };
    *count = sizeof(flags) / sizeof(flags[0]);
    return flags;
}

#elif defined(KAMA_AARCH64)
const arm_features_t& arm_features() noexcept {
    static const arm_features_t features = detect();
    return features;
}

const cpu_flag_t* cpu_flags(std::size_t* count) noexcept {
    static const cpu_flag_t flags[] = {{"ASIMD", arm_features().asimd}};
    *count = 1;
    return flags;
}

#else
const cpu_flag_t* cpu_flags(std::size_t* count) noexcept {
    *count = 0;
    return nullptr;
}

#endif

}  // namespace kama
