// One series through a kernel, with the options that act around the kernel: TA-Lib's unstable
// period and SPEC §4's nan_policy="skip".
#include <cmath>
#include <cstdlib>
#include <limits>

#include "kernels.hpp"

namespace kama {

std::size_t count_valid(const double* x, std::size_t n) noexcept {
    std::size_t valid = 0;
    for (std::size_t i = 0; i < n; ++i) valid += !std::isnan(x[i]);
    return valid;
}

status_t run_series(kernel_fn kernel, const double* x, std::size_t n, std::size_t first,
                    const params_t& prm, double* y) noexcept {
    std::size_t valid = n - first;
    if (prm.skip_nan) valid = count_valid(x + first, n - first);
    if (valid == n - first) {  // nothing to skip after the leading run
        if (kernel(x, n, first, prm, y) != status_t::ok) return status_t::no_memory;
        mute_unstable(y, n, first, prm);
        return status_t::ok;
    }
    // The series without its NaN bars, computed as one (every output, the unstable ones too,
    // counts on it), then each output put back at its bar. Scratch before y is written.
    auto* packed = static_cast<double*>(std::malloc(2 * valid * sizeof(double)));
    if (!packed) return status_t::no_packed_memory;
    double* const ys = packed + valid;
    std::size_t m = 0;
    for (std::size_t i = first; i < n; ++i)
        if (!std::isnan(x[i])) packed[m++] = x[i];
    if (kernel(packed, m, 0, prm, ys) != status_t::ok) {
        std::free(packed);
        return status_t::no_memory;
    }
    mute_unstable(ys, m, 0, prm);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t i = 0; i < first; ++i) y[i] = nan;
    for (std::size_t i = first, k = 0; i < n; ++i) y[i] = std::isnan(x[i]) ? nan : ys[k++];
    std::free(packed);
    return status_t::ok;
}

}  // namespace kama
