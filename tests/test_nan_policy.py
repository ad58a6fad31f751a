"""nan_policy="skip" (SPEC §4): a NaN bar gives NaN and leaves the state untouched, so the other
bars get the values of the series with the NaN bars removed, in every mode, kernel and entry
point; masked values of a masked array are missing values (SPEC §3)."""
import pickle

import numpy as np
import pytest
from conftest import native_rlimit
from helpers import assert_close
from hypothesis import given
from hypothesis import strategies as st
from reference import kama_exact

import kama

N = 70_000  # past one SIMD superblock (8 lanes x 8192 outputs with AVX-512 is 65,536), so threads split it


def walk(n, seed=0):
    return 100 + np.cumsum(np.random.default_rng(seed).standard_normal(n))


def gappy(n, holes, seed=0):
    x = walk(n, seed)
    holes = np.asarray(holes, dtype=np.intp)
    x[holes[holes < n]] = np.nan
    return x


def without_gaps(x):
    keep = ~np.isnan(x)
    return x[keep], keep


def assert_skips(y, x, want_packed):
    """y equals want_packed at x's valid bars and is NaN at its NaN bars."""
    packed, keep = without_gaps(x)
    np.testing.assert_array_equal(y[keep], want_packed)
    assert np.isnan(y[~keep]).all()


# Holes: single NaNs, runs, NaNs at the seed, and near the positions where the SIMD kernels
# start a lane or a superblock. The kernels see the series without its holes (whose own lane
# and block boundaries tests/test_simd.py covers); what these tests check is that the holes are
# taken out and the outputs put back at the right bars, and (below) the numbers against the
# exact reference.
def holes_for(period):
    singles = [5, 77, 1000, 4095]
    runs = list(range(200, 230)) + list(range(12_000, 12_003))
    seed = [period, period - 1]
    lanes = [period + 8192 * k + d for k in (1, 2, 3, 4) for d in (-1, 0, 1)]
    blocks = [period + 32_768 + d for d in (-1, 0, 1)] + [period + 65_536 + d for d in (-1, 0, 1)]
    return sorted(set(singles + runs + seed + lanes + blocks))


@pytest.mark.parametrize("period", [2, 30, 257])
def test_skip_equals_the_series_without_its_gaps(kernel, compat, period):
    x = gappy(N, holes_for(period), seed=period)
    packed, _ = without_gaps(x)
    y = kama.kama(x, period, kernel=kernel, compat=compat, nan_policy="skip")
    assert_skips(y, x, kama.kama(packed, period, kernel=kernel, compat=compat))


def test_skip_against_the_exact_reference(kernel, compat):
    x = gappy(6000, holes_for(10) + [0, 1, 2])  # a leading run too
    packed, keep = without_gaps(x)
    y = kama.kama(x, 10, kernel=kernel, compat=compat, nan_policy="skip")
    assert_close(y[keep], kama_exact(packed, 10, compat=compat), x[keep])
    assert np.isnan(y[~keep]).all()


def test_skip_in_every_entry_point(compat):
    x = gappy(5000, holes_for(14), seed=3)
    packed, keep = without_gaps(x)
    for unstable in (0, 7):
        opts = dict(compat=compat, unstable_period=unstable)
        want = kama.kama(packed, 14, kernel="scalar", **opts)
        assert_skips(kama.kama(x, 14, kernel="scalar", nan_policy="skip", **opts), x, want)
        # threads: a long series split, and many series shared out
        assert_skips(kama.kama(x, 14, nan_policy="skip", threads=2, **opts), x, kama.kama(packed, 14, threads=2, **opts))
        panel = kama.kama(np.vstack([x, x[::-1]]), 14, nan_policy="skip", threads=2, **opts)
        assert_skips(panel[0], x, kama.kama(packed, 14, **opts))
        assert_skips(panel[1], x[::-1], kama.kama(packed[::-1], 14, **opts))
        cols = kama.kama(np.column_stack([x, x]), 14, axis=0, nan_policy="skip", **opts)
        assert_skips(cols[:, 1], x, kama.kama(packed, 14, **opts))
        out = np.empty_like(x)
        assert kama.kama(x, 14, nan_policy="skip", out=out, **opts) is out
        assert_skips(out, x, kama.kama(packed, 14, **opts))
        res = kama.kama_batch(x, (5, 25, 10), nan_policy="skip", **opts)
        for row, p in zip(res["values"], res["periods"]):
            assert_skips(row, x, kama.kama(packed, int(p), **opts))
        # the stream: update and update_many, bit for bit the scalar kernel
        s = kama.KamaStream(14, nan_policy="skip", **opts)
        fed = [s.update(v) for v in x[:2500]]
        rest = s.update_many(x[2500:])
        got = np.r_[[np.nan if v is None else v for v in fed], rest]
        np.testing.assert_array_equal(got, kama.kama(x, 14, kernel="scalar", nan_policy="skip", **opts))


def test_stream_skips_a_nan_and_keeps_its_state():
    s = kama.KamaStream(3, nan_policy="skip")
    for v in (1.0, 2.0, 4.0, 3.0):
        s.update(v)
    before = s.value
    assert s.peek(np.nan) is None and s.update(np.nan) is None
    assert s.value == before and s.ready
    t = pickle.loads(pickle.dumps(s))
    assert t.nan_policy == "skip" and t.update(5.0) == s.update(5.0)
    assert repr(s) == "KamaStream(period=3, fast=2, slow=30, compat='vectorta', nan_policy='skip')"
    p = kama.KamaStream(3)
    for v in (1.0, 2.0, 4.0, 3.0, np.nan):
        p.update(v)
    assert np.isnan(p.value) and p.update(5.0) != p.update(5.0)  # propagate: NaN for good


def test_stream_reads_states_without_a_nan_policy():
    """A 13-tuple state (written before nan_policy existed) is a 'propagate' stream."""
    s = kama.KamaStream(5, compat="talib", unstable_period=2)
    for v in walk(40):
        s.update(v)
    cls, args, state = s.__reduce__()
    assert len(state) == 14 and state[13] == "propagate"
    old = cls(*args)
    old.__setstate__(state[:13])
    assert old.nan_policy == "propagate" and old.update(101.0) == s.update(101.0)
    with pytest.raises(ValueError, match="malformed state"):
        cls(*args).__setstate__(state[:13] + ("omit",))


def test_validation_counts_the_valid_values():
    x = np.r_[1.0, np.nan, np.nan, 2.0, 3.0]
    with pytest.raises(ValueError, match="Not enough valid data: needed = 4, valid = 3"):
        kama.kama(x, 3, nan_policy="skip")
    assert kama.kama(x, 3)[-1] != kama.kama(x, 3)[-1]  # propagate: NaN, no error (5 - 0 >= 4)
    with pytest.raises(ValueError, match="Not enough valid data"):
        kama.kama_batch(x, (2, 3, 1), nan_policy="skip")
    assert np.isnan(kama.kama(x, 3, compat="talib", nan_policy="skip")).all()  # TA-Lib's mode: NaN
    with pytest.raises(ValueError, match=r"Invalid nan_policy: 'omit' \(expected 'propagate' or 'skip'\)"):
        kama.kama(x, 2, nan_policy="omit")
    for call in (lambda: kama.kama_batch(x, nan_policy=None), lambda: kama.KamaStream(3, nan_policy=1)):
        with pytest.raises(TypeError, match="nan_policy must be a str"):
            call()


@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=0, max_size=80),
       st.integers(1, 8), st.sampled_from(["vectorta", "talib", "tulipy", "pandas_ta"]))
def test_skip_property(values, period, compat):
    x = np.array(values, dtype=float)
    packed, keep = without_gaps(x)
    try:
        want = kama.kama(packed, period, kernel="scalar", compat=compat)
    except ValueError:  # too few values once the gaps are out (the message counts x's length)
        with pytest.raises(ValueError, match="Not enough valid data|All values are NaN|Input data slice is empty|Invalid period"):
            kama.kama(x, period, kernel="scalar", compat=compat, nan_policy="skip")
        return
    y = kama.kama(x, period, kernel="scalar", compat=compat, nan_policy="skip")
    np.testing.assert_array_equal(y[keep], want)
    assert np.isnan(y[~keep]).all()
    s = kama.KamaStream(period, compat=compat, nan_policy="skip")
    np.testing.assert_array_equal(s.update_many(x), y)


# ---- masked arrays ---------------------------------------------------------------------------


def test_masked_values_are_missing_values(kernel):
    x = walk(3000, seed=8)
    mask = np.zeros(x.size, dtype=bool)
    mask[[40, 41, 900, 2999]] = True
    m = np.ma.masked_array(x, mask=mask)
    nan_x = np.where(mask, np.nan, x)
    for policy in ("propagate", "skip"):
        y = kama.kama(m, 20, kernel=kernel, nan_policy=policy)
        assert type(y) is np.ndarray
        np.testing.assert_array_equal(y, kama.kama(nan_x, 20, kernel=kernel, nan_policy=policy))
    ints = np.ma.masked_array(np.arange(60), mask=np.arange(60) == 30)
    np.testing.assert_array_equal(kama.kama(ints, 5, nan_policy="skip"),
                                  kama.kama(np.where(ints.mask, np.nan, np.arange(60.0)), 5, nan_policy="skip"))
    res = kama.kama_batch(m, (10, 20, 10), nan_policy="skip")
    np.testing.assert_array_equal(res["values"][1], kama.kama(nan_x, 20, nan_policy="skip"))
    np.testing.assert_array_equal(kama.KamaStream(20).update_many(m), kama.kama(nan_x, 20, kernel="scalar"))
    with pytest.raises(TypeError, match="real numbers"):
        kama.kama(np.ma.masked_array(["a", "b"]), 1)


@native_rlimit
def test_skip_memory_error_leaves_out_untouched(tmp_path):
    """The copy without the NaN bars is the one allocation of skip: when it fails, out= is left
    as it was and the message says what was asked for (SPEC §5). In a subprocess with a capped
    address space; not under a sanitizer, which reserves address space of its own."""
    import os
    import subprocess
    import sys

    if os.environ.get("ASAN_OPTIONS") or os.environ.get("LD_PRELOAD"):
        pytest.skip("address-space limits do not apply under the sanitizer build")
    code = """if True:
        import resource, numpy as np, kama
        n = 30_000_000
        x = np.ones(n); x[::1000] = np.nan            # 240 MB, and a NaN every 1000 bars
        out = np.full(n, 7.0)                         # 240 MB, filled before the limit
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + 200 * 2**20, hard))  # < 16 * 30M bytes
        try:
            kama.kama(x, 10, nan_policy="skip", out=out, threads=1)
        except MemoryError as exc:
            print(exc)
        print(bool((out == 7.0).all()), kama._kama._live_buffers())
    """
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    # 16 bytes for each of the 29,970,000 valid values: 457. MiB, in NumPy's wording
    assert lines[0] == "kama: Unable to allocate 457. MiB for the series without its missing values (nan_policy='skip')"
    assert lines[-1] == "True 0"
