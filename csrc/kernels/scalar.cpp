// The scalar kernel: plain C++ that runs on any CPU (its loop is scalar_kama.hpp's), and the
// streaming state machine that repeats its arithmetic bar by bar.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>
#include <type_traits>

#include "kama_math.hpp"
#include "kernels.hpp"
#include "scalar_kama.hpp"

namespace kama {
namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

inline void fill_nan(double* y, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) y[i] = nan_v;
}

// The mean of v[0..k) and `last`, summed in that order with Neumaier's compensation, so that it
// stays within SPEC §2's bound for any period (a plain sum errs by up to k ulps of the largest).
// `scale` (a power of two, so exact) keeps a sum of prices near DBL_MAX from overflowing.
double compensated_mean(const double* v, std::size_t k, double last, double scale) noexcept {
    double sum = 0.0, comp = 0.0;
    auto add = [&](double a) {
        a *= scale;
        const double t = sum + a;
        comp += std::fabs(sum) >= std::fabs(a) ? (sum - t) + a : (a - t) + sum;
        sum = t;
    };
    for (std::size_t j = 0; j < k; ++j) add(v[j]);
    add(last);
    const double count = static_cast<double>(k + 1);
    if (!std::isfinite(sum)) return sum / count;  // comp would hold inf - inf
    return (sum + comp) / count / scale;
}

double mean_of(const double* v, std::size_t k, double last) noexcept {
    const double mean = compensated_mean(v, k, last, 1.0);
    if (std::isfinite(mean)) return mean;
    // An infinite sum of finite prices (p * price past DBL_MAX): again at 2^-64, which every
    // count fits under. An infinite or NaN price gives what a plain sum gives.
    bool finite = std::isfinite(last);
    for (std::size_t j = 0; j < k && finite; ++j) finite = std::isfinite(v[j]);
    return finite ? compensated_mean(v, k, last, 0x1p-64) : mean;
}

}  // namespace

void mute_unstable(double* y, std::size_t n, std::size_t first, const params_t& prm) noexcept {
    const std::size_t from = first_output(first, prm);
    if (from >= n || prm.unstable == 0) return;
    fill_nan(y + from, prm.unstable < n - from ? prm.unstable : n - from);
}

std::size_t first_valid(const double* x, std::size_t n) noexcept {
    std::size_t i = 0;
    while (i < n && std::isnan(x[i])) ++i;
    return i;
}

double seed_value(const double* x, std::size_t first, const params_t& prm) noexcept {
    const std::size_t p = prm.period;
    if (prm.compat != compat_t::pandas_ta) return x[first + p - 1];
    return mean_of(x + first, p - 1, x[first + p - 1]);
}

status_t kama_f64_scalar(const double* x, std::size_t n, std::size_t first, const params_t& prm,
                         double* y) {
    return run_scalar_for<false>(prm, x, n, first, prm, y, static_cast<double*>(nullptr));
}

void kama_f64_scalar_into(const double* x, std::size_t n, std::size_t first, const params_t& prm,
                          double* y, double* scratch) noexcept {
    run_scalar_for<false>(prm, x, n, first, prm, y, scratch);
}

// ---------------------------------------------------------------------------------------------
// Stream

bool stream_init(stream_t& s, const params_t& prm) noexcept {
    s.prm = prm;
    s.ring = static_cast<double*>(std::malloc(2 * prm.period * sizeof(double)));
    s.blocks = s.ring ? s.ring + prm.period : nullptr;
    if (!s.ring) return false;
    stream_reset(s);
    return true;
}

void stream_free(stream_t& s) noexcept {
    std::free(s.ring);
    s.ring = s.blocks = nullptr;
}

void stream_reset(stream_t& s) noexcept {
    s.seen = s.pos = s.r = s.muted = 0;
    s.prefix = 0.0;
    s.last = s.y = nan_v;
    if (s.ring) std::memset(s.ring, 0, 2 * s.prm.period * sizeof(double));
}

bool stream_copy(stream_t& dst, const stream_t& src) noexcept {
    if (!stream_init(dst, src.prm)) return false;
    std::memcpy(dst.ring, src.ring, 2 * src.prm.period * sizeof(double));
    dst.seen = src.seen;
    dst.muted = src.muted;
    dst.pos = src.pos;
    dst.r = src.r;
    dst.prefix = src.prefix;
    dst.last = src.last;
    dst.y = src.y;
    return true;
}

namespace {

// The output for `value` at an output bar (seen >= period), from the state before it.
// With `commit`, the state advances exactly as the scalar kernel's loop does.
template <bool commit>
inline double stream_output(std::conditional_t<commit, stream_t&, const stream_t&> s,
                            double value) noexcept {
    const std::size_t p = s.prm.period;
    const double move = std::fabs(value - s.last);
    double volatility;
    if (s.r == 0) {
        if constexpr (commit) {
            s.blocks[p - 1] = move;
            suffix_sums(s.blocks, p);
            s.prefix = 0.0;
            volatility = s.blocks[0] + s.prefix;
        } else {  // the same additions in the same order, without storing them
            double acc = move;
            for (std::size_t o = p - 1; o-- > 0;) acc = s.blocks[o] + acc;
            volatility = acc + 0.0;
        }
    } else {
        double prefix = s.prefix + move;
        volatility = s.blocks[s.r] + prefix;
        if constexpr (commit) {
            s.prefix = prefix;
            s.blocks[s.r - 1] = move;
        }
    }
    double yv;
    if (s.seen == p && s.prm.compat == compat_t::vectorta) {
        yv = value;  // the seed
    } else {
        // TA-Lib's seed is the last warm-up price; the modes that emit their seed keep it in y.
        double prev = s.seen == p && s.prm.compat == compat_t::talib ? s.last : s.y;
        double change = value - s.ring[s.pos];
        double er;
        switch (er_rule(s.prm.compat)) {
            case compat_t::talib: er = efficiency<compat_t::talib>(change, volatility, p); break;
            case compat_t::pandas_ta: er = efficiency<compat_t::pandas_ta>(change, volatility, p); break;
            default: er = efficiency<compat_t::vectorta>(change, volatility, p); break;
        }
        yv = advance(prev, smoothing(er, s.prm.fsc - s.prm.ssc, s.prm.ssc), value);
    }
    if constexpr (commit) {
        s.r = (s.r + 1 == p) ? 0 : s.r + 1;
        s.ring[s.pos] = value;
        s.pos = (s.pos + 1 == p) ? 0 : s.pos + 1;
        s.last = value;
        s.y = yv;
        s.seen = p + 1;
    }
    return yv;
}

// Counts an output (up to prm.unstable + 1) and says whether it is given: the first
// prm.unstable ones are not.
inline bool unmuted(stream_t& s) noexcept {
    if (s.muted <= s.prm.unstable) ++s.muted;
    return s.muted > s.prm.unstable;
}

// The seed of a mode that emits it, when `value` is the last of the `period` warm-up prices:
// ring[0..period-1) holds the ones before it, in order, as x[first..] does for seed_value.
inline double stream_seed(const stream_t& s, double value) noexcept {
    return s.prm.compat == compat_t::pandas_ta ? mean_of(s.ring, s.prm.period - 1, value) : value;
}
}  // namespace

bool stream_update(stream_t& s, double value, double* out) noexcept {
    const std::size_t p = s.prm.period;
    // Leading NaNs are skipped; with nan_policy="skip" every NaN is, leaving the state as it was.
    if ((s.seen == 0 || s.prm.skip_nan) && std::isnan(value)) return false;
    if (copies_input(s.prm)) {
        s.seen = 1;
        s.y = s.last = value;
        *out = value;
        return unmuted(s);
    }
    if (s.seen < p) {  // warm-up: the first block of moves and the ring fill up
        if (s.seen > 0) s.blocks[s.seen - 1] = std::fabs(value - s.last);
        if (s.seen + 1 == p && emits_seed(s.prm.compat)) {
            s.y = *out = stream_seed(s, value);
            s.ring[s.seen] = value;
            s.last = value;
            ++s.seen;
            return unmuted(s);
        }
        s.ring[s.seen] = value;
        s.last = value;
        ++s.seen;
        return false;
    }
    *out = stream_output<true>(s, value);
    return unmuted(s);
}

bool stream_peek(const stream_t& s, double value, double* out) noexcept {
    if ((s.seen == 0 || s.prm.skip_nan) && std::isnan(value)) return false;
    if (copies_input(s.prm)) {
        *out = value;
        return s.muted >= s.prm.unstable;  // this would be output number muted + 1
    }
    if (s.seen + 1 == s.prm.period && emits_seed(s.prm.compat)) {
        *out = stream_seed(s, value);
        return s.muted >= s.prm.unstable;
    }
    if (s.seen < s.prm.period) return false;
    *out = stream_output<false>(s, value);
    return s.muted >= s.prm.unstable;
}

namespace {

// stream_update over values[0..n) for a stream in its steady state (past the seed, every output
// given), by the rule C = er_rule(compat), with the state in locals. The arithmetic is
// stream_output<true>'s, operation for operation, so the outputs are the same bits; only the
// per-bar dispatch and bookkeeping are gone.
template <compat_t C, bool skip>
void run_steady(stream_t& s, const double* values, std::size_t n, double* out) noexcept {
    const std::size_t p = s.prm.period;
    double* const ring = s.ring;
    double* const blocks = s.blocks;
    const double diff = s.prm.fsc - s.prm.ssc, ssc = s.prm.ssc;
    std::size_t pos = s.pos, r = s.r;
    double prefix = s.prefix, last = s.last, y = s.y;
    for (std::size_t i = 0; i < n; ++i) {
        const double value = values[i];
        if (skip && std::isnan(value)) {  // left out: the state stays as it was
            out[i] = nan_v;
            continue;
        }
        const double move = std::fabs(value - last);
        double volatility;
        if (r == 0) {
            blocks[p - 1] = move;
            suffix_sums(blocks, p);
            prefix = 0.0;
            volatility = blocks[0] + prefix;
        } else {
            prefix = prefix + move;
            volatility = blocks[r] + prefix;
            blocks[r - 1] = move;
        }
        const double change = value - ring[pos];
        y = advance(y, smoothing(efficiency<C>(change, volatility, p), diff, ssc), value);
        out[i] = y;
        r = r + 1 == p ? 0 : r + 1;
        ring[pos] = value;
        pos = pos + 1 == p ? 0 : pos + 1;
        last = value;
    }
    s.pos = pos;
    s.r = r;
    s.prefix = prefix;
    s.last = last;
    s.y = y;
}

template <compat_t C>
void run_steady_for(stream_t& s, const double* values, std::size_t n, double* out) noexcept {
    if (s.prm.skip_nan) {
        run_steady<C, true>(s, values, n, out);
    } else {
        run_steady<C, false>(s, values, n, out);
    }
}

// Past the warm-up, the seed and the unstable outputs: every later bar is one recurrence step.
inline bool steady(const stream_t& s) noexcept {
    return !copies_input(s.prm) && s.seen == s.prm.period + 1 && s.muted > s.prm.unstable;
}

}  // namespace

void stream_update_many(stream_t& s, const double* values, std::size_t n, double* out) noexcept {
    std::size_t i = 0;
    for (; i < n && !steady(s); ++i) {
        if (!stream_update(s, values[i], out + i)) out[i] = nan_v;
    }
    if (i == n) return;
    switch (er_rule(s.prm.compat)) {
        case compat_t::talib: run_steady_for<compat_t::talib>(s, values + i, n - i, out + i); break;
        case compat_t::pandas_ta: run_steady_for<compat_t::pandas_ta>(s, values + i, n - i, out + i); break;
        default: run_steady_for<compat_t::vectorta>(s, values + i, n - i, out + i); break;
    }
}

// Runs everywhere: the fallback on every platform, and the reference the others are held to.
extern const kernel_entry kernel_scalar = {"scalar", kama_f64_scalar, nullptr, nullptr, 1, nullptr};

}  // namespace kama
