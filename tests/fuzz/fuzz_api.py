"""Fuzz kama's Python API: every entry point with awkward data, layouts and arguments.

    pip install atheris && python tests/fuzz/fuzz_api.py -max_total_time=60

(any libFuzzer flag works: -runs=N, -jobs=N, a corpus folder). Without atheris,
tests/test_fuzz_harness.py feeds the same one_input() with hypothesis.

A call may return or raise one of the exceptions SPEC §5 names (ValueError, TypeError,
MemoryError, each with a message); anything else, a crash, a hang or a wrong invariant is a
finding. Invariants checked on every successful call: the result's shape and dtype, the other
kernels against the scalar one on tame data, the stream against kama(kernel="scalar") bit for
bit, and pickling round trips.
"""
import pickle
import sys

import os

import numpy as np

import kama

ALLOWED = (ValueError, TypeError, MemoryError)


class Reader:
    """Draws choices from the fuzzer's bytes; past their end every draw is 0."""

    def __init__(self, data):
        self.data, self.at = data, 0

    def byte(self):
        b = self.data[self.at] if self.at < len(self.data) else 0
        self.at += 1
        return b

    def int(self, bound):  # in [0, bound)
        v = 0
        for _ in range(4 if bound > 256 else 1):
            v = v * 256 + self.byte()
        return v % bound if bound else 0

    def pick(self, options):
        return options[self.int(len(options))]


VALUES = [0.0, -0.0, 1.0, -1.0, 100.0, 1e-8, 3e-8, 1e12, -1e12, 1e300, 5e-324, 2.2e-308,
          np.nan, np.inf, -np.inf, 65504.0, 2.0**53, 0.1]
PERIODS = [1, 2, 3, 5, 14, 30, 64, 129, 8192, 8193, 0, -1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**70),
           True, np.int8(3), np.uint64(2**64 - 1), 2.0, "3", None]
SMOOTH = [1, 2, 3, 10, 30, 10**7, 0, -1, 2**64, 1.5, None]
COMPATS = ["vectorta", "talib", "tulipy", "pandas_ta", "tulip", "", "\ud800", None, 3]
KERNELS = [None, "auto", "scalar", "avx2", "avx512", "neon", "scalar_batch", "avx2_batch",
           "avx512_batch", "x", "\ud800", "avx2\0", 1]
THREADS = [None, 1, 2, 3, 0, -1, 2**64, 1.0]
UNSTABLE = [0, 1, 5, 100, 10**9, -1, 2**63 - 1, 1.5]
POLICIES = ["propagate", "skip", "omit", "", None, 1]


def series(r, n=None):
    """A price series: a random walk, a palette of awkward values, or a mix, with NaN gaps."""
    n = r.pick([0, 1, 2, 3, 7, 31, 64, 65, 129, 300, 2049, 5000, 20000]) if n is None else n
    rng = np.random.default_rng(r.int(2**16))
    kind = r.int(4)
    if kind == 0:
        x = 100 + np.cumsum(rng.standard_normal(n))
    elif kind == 1:
        x = np.array([r.pick(VALUES) for _ in range(min(n, 64))] * (n // 64 + 1))[:n]
    elif kind == 2:
        x = rng.standard_normal(n).cumsum() * 10.0 ** r.int(20) - 10
        if n:
            x[rng.integers(0, n, size=1 + n // 50)] = r.pick(VALUES)
    else:
        x = np.full(n, r.pick(VALUES))
    if n and r.int(3) == 0:
        x[: r.int(n + 1)] = np.nan  # leading NaNs
    return x


def layout(r, x):
    """x as a user might pass it: dtype, byte order, strides, lists, masks, 2-D."""
    k = r.int(10)
    if k == 0:
        return x.tolist()
    if k == 1:
        return x.astype(np.float32)
    if k == 2:
        return x.astype(">f8")
    if k == 3:
        return np.repeat(x, 2)[::2]
    if k == 4:
        return np.round(np.nan_to_num(x, nan=0, posinf=0, neginf=0)).astype(np.int64)
    if k == 5:
        v = x.copy()
        v.flags.writeable = False
        return v
    if k == 6:
        return np.ma.masked_invalid(x)
    if k == 7:
        return x.astype(object)
    return x


def tame(x):
    """Finite values of magnitude 1e-100..1e100 (and zeros): where kernels must agree closely."""
    a = np.asarray(x, dtype=np.float64)
    a = np.abs(a[~np.isnan(a)])
    if a.size == 0 or not np.isfinite(a).all():
        return False
    nonzero = a[a > 0]
    return a.max() < 1e100 and (nonzero.size == 0 or nonzero.min() > 1e-100)


class ReferenceFailed(AssertionError):
    """A reference call, made only after the call under test succeeded, raised."""


def reference(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ALLOWED as exc:
        raise ReferenceFailed(f"the reference call raised {type(exc).__name__}: {exc}") from exc


def check_against_scalar(got, x, period, kw):
    want = reference(kama.kama, x, period, kernel="scalar", **{k: v for k, v in kw.items() if k != "kernel"})
    assert np.array_equal(np.isnan(got), np.isnan(want)), "NaN positions differ between kernels"
    bound = 1e-9 * np.nanmax(np.abs(np.asarray(x, dtype=np.float64)))
    finite = ~np.isnan(want)
    assert not finite.any() or np.abs(got - want)[finite].max() <= bound, "kernels disagree"


def fuzz_kama(r):
    two_d = r.int(4) == 0
    x = series(r)
    if two_d:
        rows = r.pick([1, 2, 3, 5])
        x = np.vstack([series(r, len(x)) for _ in range(rows)])
    data = layout(r, x) if not two_d else (x if r.int(2) else x.T)
    kw = {}
    if r.int(2):
        kw["kernel"] = r.pick(KERNELS)
    for name, pool in (("fast", SMOOTH), ("slow", SMOOTH), ("compat", COMPATS), ("threads", THREADS),
                       ("unstable_period", UNSTABLE), ("nan_policy", POLICIES)):
        if r.int(3) == 0:
            kw[name] = r.pick(pool)
    if two_d:
        kw["axis"] = r.pick([-1, 0, 1, 2, -3]) if data is x else 0
    if r.int(4) == 0:
        shape = np.shape(data)
        kw["out"] = r.pick([np.empty(shape), np.empty(shape, np.float32), np.empty(shape[:1] + (1,)),
                            np.empty(shape).T, None])
    period = r.pick(PERIODS)
    y = kama.kama(data, period, **kw)
    assert y.dtype == np.float64 and y.shape == np.shape(data)
    if kw.get("out") is not None:
        assert y is kw["out"]
    # Masked values are missing values (SPEC §3): the same as NaN there.
    plain = np.ma.filled(data.astype(np.float64), np.nan) if isinstance(data, np.ma.MaskedArray) else data
    if not two_d and tame(plain):
        check_against_scalar(y, np.asarray(plain, dtype=np.float64), period, kw)


def fuzz_batch(r):
    x = layout(r, series(r))
    kw = {}
    if r.int(2):
        kw["periods"] = r.pick([[3, 5], [30, 2, 14], list(range(1, 40)), [], [0], [5, 2**64], {3, 4},
                                np.array([4, 8]), (7,), b"\x02"])
        args = (x,)
    else:
        args = (x, r.pick([(3, 8, 1), (8, 3, 2), (30, 30, 0), (1, 2**62, 1), (-5, 2**61, 1), (5, 5, 7),
                           (1, 2), (), (3, 8, -1), [3, 8, 1], (2**64, 1, 1), (40, 10, 10)]))
    for name, pool in (("kernel", KERNELS), ("compat", COMPATS), ("threads", THREADS), ("fast", SMOOTH),
                       ("nan_policy", POLICIES)):
        if r.int(3) == 0:
            kw[name] = r.pick(pool)
    res = kama.kama_batch(*args, **kw)
    values, periods = res["values"], res["periods"]
    assert values.shape == (len(periods), len(np.asarray(x)))
    k = r.int(len(periods))
    opts = {a: b for a, b in kw.items() if a not in ("periods", "threads")}
    # A SIMD kernel runs a vector's lanes of periods side by side on the scalar kernel's
    # arithmetic (README, "Many at once"): those rows are kernel="scalar"'s.
    name = kw.get("kernel") if kw.get("kernel") not in (None, "auto") else None
    name = (name or os.environ.get("KAMA_KERNEL") or kama.kernels()[-1]).removesuffix("_batch")
    lanes = {"avx2": 4, "avx512": 8, "neon": 2}.get(name)
    if lanes and len(periods) >= lanes and kw.get("nan_policy", "propagate") == "propagate":
        opts["kernel"] = "scalar"
    single = reference(kama.kama, x, int(periods[k]), threads=1, **opts)
    assert np.array_equal(values[k], single, equal_nan=True), "a sweep row is not its own kama() call"


def fuzz_stream(r):
    opts = {}
    for name, pool in (("fast", SMOOTH), ("slow", SMOOTH), ("compat", COMPATS), ("unstable_period", UNSTABLE),
                       ("nan_policy", POLICIES)):
        if r.int(3) == 0:
            opts[name] = r.pick(pool)
    period = r.pick(PERIODS[:12])
    s = kama.KamaStream(period, **opts)
    fed, known = [], True  # the values since the last reset, while they are known
    for _ in range(r.int(12)):
        op = r.int(8)
        if op == 0:
            v = r.pick(VALUES + ["1.5", None])
            out = s.update(v)
            fed.append(float(v))
            assert out is None or isinstance(out, float)
        elif op == 1:
            chunk = series(r, r.pick([0, 1, 5, 40, 300]))
            fed.extend(chunk.tolist())
            assert s.update_many(chunk).shape == chunk.shape
        elif op == 2:
            s.peek(r.pick(VALUES))
        elif op == 3:
            s.reset()
            fed, known = [], True
        elif op == 4:
            s = r.pick([s.copy(), pickle.loads(pickle.dumps(s))])
        elif op == 5:  # a mutated state: refused as malformed, or taken whole
            state = list(s.__reduce__()[2])
            at = r.int(len(state))
            state[at] = r.pick([0, -1, 1, 2**64, 1.5, "x", None, b"", state[at]])
            before = pickle.dumps(s)
            try:
                s.__setstate__(tuple(state))
                known = False
            except ValueError as exc:
                assert "malformed state" in str(exc)
                assert pickle.dumps(s) == before, "a refused state changed the stream"
        else:
            s.value, s.ready, s.period, s.fast, s.slow, s.compat, s.nan_policy, repr(s)
    if fed and known:
        try:
            want = kama.kama(fed, s.period, kernel="scalar", fast=s.fast, slow=s.slow, compat=s.compat,
                             unstable_period=s.unstable_period, nan_policy=s.nan_policy)
        except ValueError as exc:  # the stream takes any bars; kama() refuses too few of them
            if not any(m in str(exc) for m in ("Not enough valid data", "All values are NaN", "Invalid period")):
                raise ReferenceFailed(f"kama() of the stream's bars raised: {exc}") from exc
            return
        got = s.copy()
        got.reset()
        assert np.array_equal(got.update_many(fed), want, equal_nan=True), "stream != scalar kernel"


TARGETS = [fuzz_kama, fuzz_batch, fuzz_stream]


def one_input(data):
    r = Reader(data)
    target = r.pick(TARGETS)
    try:
        with np.errstate(all="ignore"):  # the harness's own casts of awkward values
            target(r)
    except ALLOWED as exc:
        assert str(exc), f"{type(exc).__name__} without a message"


def main():
    import atheris

    atheris.instrument_func(one_input)
    for f in TARGETS + [series, layout]:
        atheris.instrument_func(f)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
