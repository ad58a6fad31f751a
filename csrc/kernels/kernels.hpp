// Pure C++ kernels: pointers and lengths in, no Python objects. One file per ISA under
// csrc/kernels/; this header is the contract they share with the bindings and the dispatcher.
#pragma once
#include <cstddef>
#include <cstdint>

#include "portable.hpp"

namespace kama {

// The modes of SPEC §1. vectorta and talib differ in the efficiency ratio of a flat window and
// in the seed; tulipy is TA-Lib's arithmetic with the seed emitted; pandas_ta seeds with a mean.
enum class compat_t : int { vectorta = 0, talib = 1, tulipy = 2, pandas_ta = 3 };

// Whether the mode outputs its seed, one bar before the first recurrence step (SPEC §1).
namespace {
constexpr bool emits_seed(compat_t c) noexcept { return c == compat_t::tulipy || c == compat_t::pandas_ta; }
}  // namespace

struct params_t {
    std::size_t period;    // >= 1
    double fsc;            // fast smoothing constant, 2 / (fast + 1)
    double ssc;            // slow smoothing constant, 2 / (slow + 1)
    compat_t compat;
    std::size_t threads = 1;  // 0: as many as pay (kernels that cannot split ignore it)
    std::size_t unstable = 0;  // outputs muted to NaN from the first on (TA-Lib's unstable period)
    bool skip_nan = false;     // nan_policy="skip": a NaN bar is left out, its output NaN (SPEC §4)
    bool stream = false;       // a call whose results outgrow the caches: the many-row kernels
                               // write them with non-temporal stores
};

// Values from which a call's results are written with non-temporal stores: past what the last
// level cache holds for a later read (32 MiB of doubles).
constexpr std::size_t stream_values = std::size_t(1) << 22;

// The small helpers below have internal linkage: each file gets its own copy. avx2.cpp and
// avx512.cpp include this header before their target pragma, so their copies are baseline code
// too; internal linkage keeps any copy compiled under an AVX target (should that order change)
// from being the one that baseline code calls.
namespace {

// TA-Lib returns its input unchanged for period 1.
inline bool copies_input(const params_t& prm) noexcept {
    return prm.compat == compat_t::talib && prm.period == 1;
}

// Index of the first output of a series whose first non-NaN value is at `first`: first + period,
// the seed at first + period - 1 in the modes that emit it, `first` in TA-Lib's copy.
inline std::size_t first_output(std::size_t first, const params_t& prm) noexcept {
    if (copies_input(prm)) return first;
    return emits_seed(prm.compat) ? first + prm.period - 1 : first + prm.period;
}

// Values a series needs from its first valid one to give an output (SPEC §5): `period + 1`,
// `period` in the modes that emit the seed, 1 in TA-Lib's copy.
inline std::size_t values_for_output(const params_t& prm) noexcept {
    return first_output(0, prm) + 1;
}

}  // namespace

// The value before the first recurrence step, from the `period` prices x[first..first+period)
// (TA-Lib's and Tulip's last price of them; pandas-ta's mean). Not for the vectorta mode.
double seed_value(const double* x, std::size_t first, const params_t& prm) noexcept;

// Sets the first prm.unstable outputs of y[0..n) to NaN (SPEC §1, unstable_period); the later
// ones are unchanged. A kernel's result is final before this runs.
void mute_unstable(double* y, std::size_t n, std::size_t first, const params_t& prm) noexcept;

// no_packed_memory: nan_policy="skip" could not copy the series without its NaN bars.
enum class status_t : int { ok = 0, no_memory = 1, no_packed_memory = 2 };

// Computes KAMA of x[0..n) into y[0..n). `first` is the index of the first non-NaN value
// (n when there is none). The caller has validated the inputs for the mode (SPEC §5); in talib
// mode an input too short for one output (or all NaN) gives all NaN. Scratch memory is taken before y is
// written, so a no_memory status leaves y untouched. x and y must not overlap.
using kernel_fn = status_t (*)(const double* x, std::size_t n, std::size_t first,
                               const params_t& prm, double* y);

status_t kama_f64_scalar(const double* x, std::size_t n, std::size_t first,
                         const params_t& prm, double* y);
// The same with scratch memory of 2 * period doubles from the caller: it cannot fail.
void kama_f64_scalar_into(const double* x, std::size_t n, std::size_t first, const params_t& prm,
                          double* y, double* scratch) noexcept;
// Many series at once: V lanes of series that share their first valid index `first`, with
// first + period < n and not TA-Lib's copy for period 1, up to kama_rows_max_period. xs[l] goes
// to ys[l] (n values each), equal to kama_f64_scalar's result bit for bit; the lanes below
// lane_lo are computed but not written. Scratch memory is taken before any y is written.
constexpr std::size_t kama_rows_max_period = std::size_t(1) << 16;
using rows_fn = status_t (*)(const double* const* xs, double* const* ys, std::size_t lane_lo, std::size_t n,
                             std::size_t first, const params_t& prm);
// A sweep: V lanes of periods over one series x[0..n) whose first valid index is `first`, each
// with first + period < n, not TA-Lib's copy and at most kama_rows_max_period; lane l's result
// (n values) goes to ys[l], equal to kama_f64_scalar's for periods[l] bit for bit; lanes below
// lane_lo are computed but not written. Scratch memory is taken before any y is written.
using sweep_fn = status_t (*)(const double* x, std::size_t n, std::size_t first, const std::size_t* periods,
                              double* const* ys, std::size_t lane_lo, const params_t& prm);

// A kernel as the dispatcher sees it. Each kernel's file defines its entry (kernel_scalar in
// scalar.cpp, kernel_avx2 in avx2.cpp, ...) on every platform, with null functions where its ISA
// is not compiled in, and dispatch.cpp lists the entries: a new ISA is one file and one line there.
struct kernel_entry {
    const char* name;
    kernel_fn fn;       // nullptr: not built into this version (another architecture's kernel)
    rows_fn rows;       // its many-series kernel (simd_rows.hpp), nullptr for none
    sweep_fn sweep;     // its many-period kernel (simd_sweep.hpp), nullptr for none
    std::size_t lanes;  // series per rows() call, periods per sweep() call
    // nullptr when this CPU and OS can run it, else what they lack or why it is not built
    // ("AVX2, FMA", "it is for x86-64 and this build is for aarch64"). Cheap after the first call.
    const char* (*missing)() noexcept;
};

// Index of the first value that is not NaN, or n when there is none.
std::size_t first_valid(const double* x, std::size_t n) noexcept;
// The number of values of x[0..n) that are not NaN.
std::size_t count_valid(const double* x, std::size_t n) noexcept;

// `kernel` over one series, then TA-Lib's unstable period. With prm.skip_nan the NaN bars after
// `first` are left out: the series without them is computed, and each output
// goes back to its bar, NaN at the bars left out, so the other outputs equal those of the series
// with the NaN bars removed. no_memory leaves y untouched.
status_t run_series(kernel_fn kernel, const double* x, std::size_t n, std::size_t first,
                    const params_t& prm, double* y) noexcept;

// ---------------------------------------------------------------------------------------------
// Streaming state, one bar at a time. It runs the same arithmetic, in the same order, as
// kama_f64_scalar, so a stream equals the scalar kernel bit for bit.
struct stream_t {
    params_t prm;
    double* ring;      // last `period` prices; ring[pos] is x[i - period]
    double* blocks;    // `period` slots: suffix sums of the last full block / raw moves of this one
    std::size_t seen;  // values consumed since the first non-NaN, saturating at period + 1
    std::size_t muted; // outputs so far, counted up to prm.unstable + 1 (given once past unstable)
    std::size_t pos;   // ring position of the oldest price
    std::size_t r;     // offset of the next output inside its block of `period` moves
    double prefix;     // sum of the moves of the current block so far
    double last;       // previous price
    double y;          // previous output
};

// Allocates the buffers; false when memory is short (state left empty).
bool stream_init(stream_t& s, const params_t& prm) noexcept;
void stream_free(stream_t& s) noexcept;
void stream_reset(stream_t& s) noexcept;
bool stream_copy(stream_t& dst, const stream_t& src) noexcept;  // dst uninitialised
namespace {
// Whether a stream that has taken `seen` values (saturating at period + 1) has given an output.
inline bool stream_has_output(const params_t& prm, std::size_t seen) noexcept {
    return seen >= values_for_output(prm);
}
inline bool stream_ready(const stream_t& s) noexcept {
    return stream_has_output(s.prm, s.seen) && s.muted > s.prm.unstable;
}
}  // namespace

// Consumes `value`; returns true and sets *out once an output exists (false in warm-up).
bool stream_update(stream_t& s, double value, double* out) noexcept;
// What stream_update would return, leaving the state unchanged.
bool stream_peek(const stream_t& s, double value, double* out) noexcept;
// update() over values[0..n); warm-up outputs are NaN.
void stream_update_many(stream_t& s, const double* values, std::size_t n, double* out) noexcept;

}  // namespace kama
