// The kernel table: scalar first, then each SIMD kernel in ascending preference; the entries
// are the kernels' own (kernels.hpp's kernel_entry), with what this CPU and OS can run.
#pragma once
#include <cstddef>

#include "kernels/kernels.hpp"

namespace kama {

std::size_t kernel_count() noexcept;
const kernel_entry& kernel_at(std::size_t index) noexcept;

// Why `k` cannot run here, written to why[0..size) (empty when it can): the CPU/OS features
// it lacks, or not built. Returns true when it can run.
bool kernel_usable(const kernel_entry& k, char* why = nullptr, std::size_t size = 0) noexcept;

// Parses a kernel name ("avx2", or VectorTA's "avx2_batch"; None/"auto" handled by the caller).
// Returns nullptr for an unknown name.
const kernel_entry* kernel_from_name(const char* name) noexcept;
// The valid names, quoted and comma-separated, for an error message.
const char* kernel_names_for_error() noexcept;

// The many-series kernel that goes with `fn` (nullptr for none) and the series it takes at once.
rows_fn rows_kernel_for(kernel_fn fn, std::size_t* lanes) noexcept;
// The same for the many-period kernel.
sweep_fn sweep_kernel_for(kernel_fn fn, std::size_t* lanes) noexcept;

// The best kernel usable here.
const kernel_entry& best_kernel() noexcept;

}  // namespace kama
