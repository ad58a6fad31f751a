#include "dispatch.hpp"

#include <cpuid.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace kama {
namespace {

std::uint64_t read_xcr0() noexcept {
    std::uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<std::uint64_t>(edx) << 32) | eax;
}

cpu_features_t detect() noexcept {
    cpu_features_t f;
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    const bool osxsave = ecx & bit_OSXSAVE;
    f.fma = ecx & bit_FMA;
    if (osxsave) {
        std::uint64_t xcr0 = read_xcr0();
        f.os_avx = (xcr0 & 0x6) == 0x6;       // XMM and YMM state
        f.os_avx512 = (xcr0 & 0xE6) == 0xE6;  // plus opmask, ZMM_Hi256, Hi16_ZMM
    }
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        f.avx2 = ebx & bit_AVX2;
        f.avx512f = ebx & bit_AVX512F;
        f.avx512dq = ebx & bit_AVX512DQ;
        f.avx512bw = ebx & bit_AVX512BW;
        f.avx512vl = ebx & bit_AVX512VL;
    }
    return f;
}

// Serial first, then in ascending ISA order; best_kernel() takes the last usable one.
const kernel_entry table[k_count] = {
    {"scalar", kama_f64_scalar, nullptr, nullptr, 1},
    {"avx2", kama_f64_avx2, kama_rows_f64_avx2, kama_sweep_f64_avx2, 4},
    {"avx512", kama_f64_avx512, kama_rows_f64_avx512, kama_sweep_f64_avx512, 8},
};

}  // namespace

const cpu_features_t& cpu_features() noexcept {
    static const cpu_features_t features = detect();
    return features;
}

const kernel_entry& kernel_info(kernel_id id) noexcept { return table[id]; }

rows_fn rows_kernel_for(kernel_fn fn, std::size_t* lanes) noexcept {
    for (const kernel_entry& e : table) {
        if (e.fn == fn && e.rows) {
            *lanes = e.lanes;
            return e.rows;
        }
    }
    return nullptr;
}

sweep_fn sweep_kernel_for(kernel_fn fn, std::size_t* lanes) noexcept {
    for (const kernel_entry& e : table) {
        if (e.fn == fn && e.sweep) {
            *lanes = e.lanes;
            return e.sweep;
        }
    }
    return nullptr;
}

bool kernel_usable(kernel_id id, char* why, std::size_t size) noexcept {
    const cpu_features_t& f = cpu_features();
    char missing[160] = "";
    auto need = [&missing](bool have, const char* what) {
        if (have) return;
        if (missing[0]) std::strncat(missing, ", ", sizeof(missing) - std::strlen(missing) - 1);
        std::strncat(missing, what, sizeof(missing) - std::strlen(missing) - 1);
    };
    if (id == k_avx2) {
        need(f.avx2, "AVX2");
        need(f.fma, "FMA");
        need(f.os_avx, "OS support for AVX state (XGETBV)");
    } else if (id == k_avx512) {
        need(f.avx512f, "AVX-512F");
        need(f.os_avx512, "OS support for AVX-512 state (XGETBV)");
    }
    const bool usable = !missing[0] && table[id].fn;
    if (why && size) {  // no formatting on the way to a usable kernel (every call that names one)
        if (missing[0]) {
            std::snprintf(why, size, "this machine lacks %s", missing);
        } else if (!usable) {
            std::snprintf(why, size, "%s", "it is not built into this version of kama");
        } else {
            why[0] = '\0';
        }
    }
    return usable;
}

bool kernel_from_name(const char* name, kernel_id* id) noexcept {
    static const struct {
        const char* name;
        kernel_id id;
    } names[] = {{"scalar", k_scalar},       {"avx2", k_avx2},       {"avx512", k_avx512},
                 {"scalar_batch", k_scalar}, {"avx2_batch", k_avx2}, {"avx512_batch", k_avx512}};
    for (const auto& n : names) {
        if (std::strcmp(n.name, name) == 0) {
            *id = n.id;
            return true;
        }
    }
    return false;
}

const char* kernel_names_for_error() noexcept {
    return "'auto', 'scalar', 'avx2', 'avx512', 'scalar_batch', 'avx2_batch', 'avx512_batch'";
}

kernel_id best_kernel() noexcept {
    for (int id = k_count - 1; id > k_scalar; --id) {
        if (kernel_usable(static_cast<kernel_id>(id))) return static_cast<kernel_id>(id);
    }
    return k_scalar;
}

}  // namespace kama
