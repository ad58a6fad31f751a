// CPU detection and the kernel table: filled once at import, scalar first, then each SIMD
// kernel this build holds and this CPU (and OS) can run.
#pragma once
#include <cstddef>

#include "kernels/kernels.hpp"

namespace kama {

struct cpu_features_t {
    bool avx2 = false, fma = false;
    bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false;
    bool os_avx = false;     // XGETBV: the OS saves YMM state
    bool os_avx512 = false;  // XGETBV: the OS saves opmask and ZMM state
};

enum kernel_id : int { k_scalar = 0, k_avx2 = 1, k_avx512 = 2, k_count = 3 };

struct kernel_entry {
    const char* name;
    kernel_fn fn;  // nullptr: not built into this version
    rows_fn rows;    // its many-series kernel (simd_rows.hpp), nullptr for none
    sweep_fn sweep;  // its many-period kernel (simd_sweep.hpp), nullptr for none
    std::size_t lanes;  // series per rows() call, periods per sweep() call
};

const cpu_features_t& cpu_features() noexcept;
const kernel_entry& kernel_info(kernel_id id) noexcept;

// Why `id` cannot run here, written to why[0..size) (empty when it can): the CPU/OS features
// it lacks, or not built. Returns true when it can run.
bool kernel_usable(kernel_id id, char* why = nullptr, std::size_t size = 0) noexcept;

// Parses a kernel name (None/"auto" handled by the caller). Returns false for an unknown name.
bool kernel_from_name(const char* name, kernel_id* id) noexcept;
const char* kernel_names_for_error() noexcept;

// The many-series kernel that goes with `fn` (nullptr for none) and the series it takes at once.
rows_fn rows_kernel_for(kernel_fn fn, std::size_t* lanes) noexcept;
// The same for the many-period kernel.
sweep_fn sweep_kernel_for(kernel_fn fn, std::size_t* lanes) noexcept;

// The best kernel usable here.
kernel_id best_kernel() noexcept;

}  // namespace kama
