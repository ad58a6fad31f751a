"""kama(): every kernel against the pure-Python and the exact reference, the peers, and the
error table of SPEC §5."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import assert_close, assert_matches_peer, valid_for
from reference import kama_exact, kama_ref
from strategies import SCALES, periods, price_series

import kama


# ---- against the references -----------------------------------------------------------------


@settings(deadline=None)
@given(x=price_series(), period=periods, data=st.data())
def test_matches_reference(kernel, compat, x, period, data):
    fast = data.draw(st.integers(1, 10), label="fast")
    slow = data.draw(st.integers(1, 60), label="slow")
    if not valid_for(x, period, compat):
        return
    got = kama.kama(x, period, kernel=kernel, fast=fast, slow=slow, compat=compat)
    assert_close(got, kama_ref(x, period, fast, slow, compat), x)


@settings(deadline=None)
@given(x=price_series(max_size=200, nan=False), period=periods)
def test_matches_exact_reference(kernel, compat, x, period):
    if not valid_for(x, period, compat):
        return
    got = kama.kama(x, period, kernel=kernel, compat=compat)
    assert_close(got, kama_exact(x, period, compat=compat), x)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257])
@pytest.mark.parametrize("period", [1, 2, 3, 8, 30])
def test_lengths_around_edges(kernel, compat, n, period):
    rng = np.random.default_rng(n * 100 + period)
    x = 100 + np.cumsum(rng.standard_normal(n))
    if not valid_for(x, period, compat):
        with pytest.raises(ValueError):
            kama.kama(x, period, kernel=kernel, compat=compat)
        return
    assert_close(kama.kama(x, period, kernel=kernel, compat=compat), kama_exact(x, period, compat=compat), x)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("period", [5, 30])
def test_spike_leaves_no_lasting_error(kernel, compat, seed, period):
    """SPEC §2: after a 1e12 tick leaves the window the result is back on the exact one."""
    rng = np.random.default_rng(seed)
    n, k = 600, 150 + seed
    x = 100 + np.cumsum(rng.standard_normal(n))
    ordinary = np.abs(x).max()
    x[k] = 1e12
    exact = np.array(kama_exact(x, period, compat=compat))
    got = kama.kama(x, period, kernel=kernel, compat=compat)
    assert np.abs(got - exact)[period + 1 :].max() <= 1e-12 * np.abs(x).max()
    after = slice(k + period + 1, n)
    err = np.abs(got[after] - exact[after])
    assert (err <= 1e-10 * np.abs(exact[after]) + 1e-12 * ordinary).all(), err.max()


def _running_sum_kama(x, period):
    """The peers' scheme (S += new - old), to show the spike test above can fail."""
    y = [math.nan] * len(x)
    s = sum(abs(x[j] - x[j - 1]) for j in range(1, period + 1))
    y[period] = prev = x[period]
    for i in range(period + 1, len(x)):
        s += abs(x[i] - x[i - 1]) - abs(x[i - period] - x[i - period - 1])
        er = abs(x[i] - x[i - period]) / s if s else 0.0
        c = (er * (2 / 3 - 2 / 31) + 2 / 31) ** 2
        y[i] = prev = prev + c * (x[i] - prev)
    return np.array(y)


def test_peer_nan_from_cancellation_is_the_peers_defect():
    """Found by hypothesis: a 10 then values near 1e-17, period 1. VectorTA's running sum
    cancels and it gives NaN where the exact answer is a number; ours gives the number."""
    x = np.concatenate([[10.0], np.arange(1, 15) * 1.0699364434094237e-17])
    exact = np.array(kama_exact(x, 1))
    got = kama.kama(x, 1)
    assert not np.isnan(got[1:]).any()
    assert_close(got, exact, x)
    vector_ta = pytest.importorskip("vector_ta")
    assert_matches_peer(got, vector_ta.kama(x, 1), x, 1, "vectorta")


def test_peer_check_rejects_a_wrong_result():
    x = 100 + np.cumsum(np.random.default_rng(9).standard_normal(200))
    good = kama.kama(x, 10)
    bad = good.copy()
    bad[150] += 1e-6
    assert_matches_peer(good, bad, x, 10, "vectorta")  # the peer is the one that is off
    with pytest.raises(AssertionError):
        assert_matches_peer(bad, good, x, 10, "vectorta")


def test_spike_check_rejects_a_running_sum():
    rng = np.random.default_rng(0)
    x = 100 + np.cumsum(rng.standard_normal(600))
    ordinary = np.abs(x).max()
    x[150] = 1e12
    exact = np.array(kama_exact(x, 30))
    tail = slice(150 + 31, 600)
    err = np.abs(_running_sum_kama(x, 30)[tail] - exact[tail])
    assert not (err <= 1e-10 * np.abs(exact[tail]) + 1e-12 * ordinary).all()


@pytest.mark.parametrize("scale", SCALES)
def test_flat_stretches(kernel, compat, scale):
    x = scale * np.concatenate([np.linspace(1, 2, 40), np.full(50, 2.0), np.linspace(2, 1.5, 30), np.full(40, 1.5)])
    assert_close(kama.kama(x, 10, kernel=kernel, compat=compat), kama_exact(x, 10, compat=compat), x)


@pytest.mark.slow  # 48 runs of the 80-digit reference (~15 s)
@pytest.mark.parametrize("fast, slow", [(1, 1), (1, 10**7), (2, 10**4), (50, 3)])
def test_extreme_smoothing_constants_against_exact(kernel, compat, fast, slow):
    """A tiny c (huge slow) must not bias the recurrence: (1 - c) y + c x would round 1 - c."""
    n = 20_000
    x = 100 + np.where(np.arange(n) % 2 == 0, 1.0, -1.0)  # ER = 0 for an even period: c = ssc^2
    x[: n // 3] += 50
    x[n // 2 : n // 2 + 40] += np.linspace(0, 30, 40)
    want = kama_exact(x, 10, fast=fast, slow=slow, compat=compat)
    assert_close(kama.kama(x, 10, kernel=kernel, fast=fast, slow=slow, compat=compat), want, x)


def test_all_kernels_agree_with_scalar(kernel, compat):
    rng = np.random.default_rng(7)
    x = 1000 + np.cumsum(rng.standard_normal(5000))
    for period in (1, 2, 14, 30, 100):
        want = kama.kama(x, period, kernel="scalar", compat=compat)
        assert_close(kama.kama(x, period, kernel=kernel, compat=compat), want, x)


def test_scalar_is_deterministic_and_equals_reference_on_constant():
    x = np.full(100, 3.25)
    for compat in ("vectorta", "talib", "tulipy", "pandas_ta"):
        y = kama.kama(x, 10, compat=compat)
        warm = 10 - (compat in ("tulipy", "pandas_ta"))
        assert np.isnan(y[:warm]).all()
        np.testing.assert_array_equal(y[warm:], 3.25)


def test_pandas_ta_seed_near_the_largest_double(kernel):
    """The mean seed of p prices whose sum passes DBL_MAX is still the mean (SPEC §2: any scale
    of normal doubles); the stream takes the same path."""
    x = 1e308 * (1.5 + 0.01 * np.cumsum(np.random.default_rng(0).standard_normal(3000)))
    for period in (2, 20):
        y = kama.kama(x, period, kernel=kernel, compat="pandas_ta")
        assert_close(y, kama_exact(x, period, compat="pandas_ta"), x)
        stream = kama.KamaStream(period, compat="pandas_ta").update_many(x)
        np.testing.assert_array_equal(stream, kama.kama(x, period, kernel="scalar", compat="pandas_ta"))
    np.testing.assert_array_equal(kama.kama(np.full(40, 1.2e307), 20, kernel=kernel, compat="pandas_ta")[19:], 1.2e307)


# ---- NaN handling ------------------------------------------------------------------------------


def test_leading_nans_are_skipped(compat):
    rng = np.random.default_rng(3)
    body = 50 + np.cumsum(rng.standard_normal(120))
    x = np.concatenate([np.full(17, np.nan), body])
    y = kama.kama(x, 9, compat=compat)
    first_output = 17 + 9 - (compat in ("tulipy", "pandas_ta"))  # these modes output their seed
    assert np.isnan(y[:first_output]).all() and not np.isnan(y[first_output])
    np.testing.assert_array_equal(y[17:], kama.kama(body, 9, compat=compat))


def test_interior_nan_propagates(compat):
    x = 100 + np.cumsum(np.random.default_rng(4).standard_normal(80))
    x[40] = np.nan
    y = kama.kama(x, 5, compat=compat)
    assert np.isfinite(y[5:40]).all()
    assert np.isnan(y[40:]).all()


# ---- the peers -----------------------------------------------------------------------------------


@pytest.mark.slow  # the 80-digit reference over 15,577 bars, 12 times
def test_real_data_against_exact(btc_close, kernel, compat):
    for period in (10, 30):
        got = kama.kama(btc_close, period, kernel=kernel, compat=compat)
        assert_close(got, kama_exact(btc_close, period, compat=compat), btc_close)


def test_real_data_against_vector_ta(btc_close):
    vector_ta = pytest.importorskip("vector_ta")
    for period in (2, 10, 30, 200):
        assert_matches_peer(kama.kama(btc_close, period), vector_ta.kama(btc_close, period), btc_close, period, "vectorta")


def test_real_data_against_talib(btc_close):
    talib = pytest.importorskip("talib")
    for period in (1, 2, 10, 30, 200):
        assert_matches_peer(kama.kama(btc_close, period, compat="talib"), talib.KAMA(btc_close, period), btc_close, period, "talib")


@settings(deadline=None)
@given(x=price_series(), period=periods)
def test_vectorta_mode_matches_vector_ta(x, period):
    vector_ta = pytest.importorskip("vector_ta")
    if not valid_for(x, period, "vectorta"):
        return
    assert_matches_peer(kama.kama(x, period), vector_ta.kama(np.ascontiguousarray(x), period), x, period, "vectorta")


@settings(deadline=None)
@given(x=price_series(), period=periods)
def test_talib_mode_matches_talib(x, period):
    talib = pytest.importorskip("talib")
    if not valid_for(x, period, "talib"):
        return
    assert_matches_peer(kama.kama(x, period, compat="talib"), talib.KAMA(x, period), x, period, "talib")


# ---- inputs ----------------------------------------------------------------------------------------

BASE = 100 + np.cumsum(np.random.default_rng(11).standard_normal(64))


def layouts():
    big = np.empty(64, dtype=">f8")
    big[:] = BASE
    strided = np.empty(128)
    strided[::2] = BASE
    ro = BASE.copy()
    ro.flags.writeable = False
    offset = np.empty(65 * 8 + 3, dtype=np.uint8)[3 : 3 + 64 * 8].view(np.float64)  # misaligned
    offset[:] = BASE
    return {
        "list": BASE.tolist(),
        "tuple": tuple(BASE.tolist()),
        "float32": BASE.astype(np.float32),
        "float16": BASE.astype(np.float16),
        "int64": BASE.astype(np.int64),
        "uint8": BASE.astype(np.uint8),
        "bool": BASE > 100,
        "big-endian": big,
        "strided": strided[::2],
        "reversed": BASE[::-1].copy()[::-1],
        "read-only": ro,
        "misaligned": offset,
        "object": np.array(BASE.tolist(), dtype=object),
    }


@pytest.mark.parametrize("name", list(layouts()))
def test_input_layouts(name):
    data = layouts()[name]
    want = kama.kama(np.asarray(data, dtype=np.float64), 10)
    np.testing.assert_array_equal(kama.kama(data, 10), want)


def test_contiguous_float64_is_not_copied_or_modified():
    x = BASE.copy()
    before = x.copy()
    kama.kama(x, 10)
    np.testing.assert_array_equal(x, before)


def test_offset_views(kernel, compat):
    x = 100 + np.cumsum(np.random.default_rng(12).standard_normal(300))
    for off in (1, 3, 7):
        view = x[off:]
        assert_close(kama.kama(view, 8, kernel=kernel, compat=compat), kama_exact(view, 8, compat=compat), view)


def test_pandas_series_input():
    pd = pytest.importorskip("pandas")
    s = pd.Series(BASE)
    np.testing.assert_array_equal(kama.kama(s, 10), kama.kama(BASE, 10))


# ---- out= ------------------------------------------------------------------------------------------


def test_out_is_filled_and_returned():
    out = np.empty(64)
    r = kama.kama(BASE, 10, out=out)
    assert r is out
    np.testing.assert_array_equal(out, kama.kama(BASE, 10))


def test_out_strided_and_in_place():
    want = kama.kama(BASE, 10)
    buf = np.zeros(128)
    kama.kama(BASE, 10, out=buf[::2])
    np.testing.assert_array_equal(buf[::2], want)
    assert (buf[1::2] == 0).all()
    x = BASE.copy()
    assert kama.kama(x, 10, out=x) is x  # in place: the input is read before it is overwritten
    np.testing.assert_array_equal(x, want)
    rev = np.zeros(64)
    kama.kama(BASE, 10, out=rev[::-1])
    np.testing.assert_array_equal(rev[::-1], want)


@pytest.mark.parametrize(
    "out, exc",
    [
        (np.empty(64, dtype=np.float32), TypeError),
        (np.empty(64, dtype=">f8"), TypeError),
        ([0.0] * 64, TypeError),
        (np.empty(63), ValueError),
        (np.empty((8, 8)), ValueError),
        (np.empty((64, 1)), ValueError),
    ],
)
def test_out_rejected(out, exc):
    with pytest.raises(exc):
        kama.kama(BASE, 10, out=out)


def test_out_read_only_rejected():
    out = np.empty(64)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kama.kama(BASE, 10, out=out)


def test_out_untouched_on_error():
    out = np.full(5, 7.0)
    with pytest.raises(ValueError, match="Not enough valid data"):
        kama.kama([np.nan, 1.0, 2.0, 3.0, 4.0], 4, out=out)
    assert (out == 7.0).all()


# ---- errors (SPEC §5) ----------------------------------------------------------------------------

ERRORS = [
    ([], {}, ValueError, "Input data slice is empty"),
    (np.array([]), {"period": 0}, ValueError, "Input data slice is empty"),
    ([np.nan] * 5, {"period": 2}, ValueError, "All values are NaN"),
    ([1.0, 2.0, 3.0], {"period": 0}, ValueError, "Invalid period"),
    ([1.0, 2.0, 3.0], {"period": -4}, ValueError, "Invalid period"),
    ([1.0, 2.0, 3.0], {"period": 0, "compat": "talib"}, ValueError, "Invalid period"),
    ([1.0, 2.0, 3.0], {"period": 4}, ValueError, "Invalid period"),
    ([1.0, 2.0, 3.0], {"period": 2**70}, ValueError, "Invalid period"),
    ([1.0, 2.0, 3.0], {"period": 3}, ValueError, "Not enough valid data"),
    ([np.nan, 1.0, 2.0, 3.0], {"period": 3}, ValueError, "Not enough valid data"),
    ([1.0, 2.0, 3.0], {"period": 2, "fast": 0}, ValueError, "Invalid fast"),
    ([1.0, 2.0, 3.0], {"period": 2, "slow": 0}, ValueError, "Invalid slow"),
    ([1.0, 2.0, 3.0], {"period": 2, "compat": "pandas"}, ValueError, "compat"),
    ([1.0, 2.0, 3.0], {"period": 2, "kernel": "sse9"}, ValueError, "Unknown kernel"),
    ([1.0, 2.0, 3.0], {"period": 2, "kernel": "scalar\0junk"}, ValueError, "Unknown kernel"),
    (["a", "b", "c"], {"period": 1}, TypeError, "real numbers"),
    ([1 + 2j, 3j], {"period": 1}, TypeError, "real numbers"),
    (np.array([1.0, object(), 2.0], dtype=object), {"period": 1}, TypeError, "real numbers"),
    (np.array(["2020-01-01"], dtype="M8[D]"), {"period": 1}, TypeError, "real numbers"),
    (5.0, {"period": 1}, TypeError, "1-D"),
    (None, {"period": 1}, TypeError, "1-D"),
    (np.ones((3, 4, 2)), {"period": 1}, ValueError, "1-D or 2-D"),
    (np.ones((3, 4)), {"period": 1, "axis": 2}, ValueError, "out of bounds"),
    ([1.0, 2.0, 3.0], {"period": 2.0}, TypeError, "period must be an integer"),
    ([1.0, 2.0, 3.0], {"period": "2"}, TypeError, "period must be an integer"),
    ([1.0, 2.0, 3.0], {"period": 2, "kernel": 3}, TypeError, "kernel"),
    ([1.0, 2.0, 3.0], {"period": 2, "compat": None}, TypeError, "compat"),
    ([1.0, 2.0, 3.0], {"period": 2, "fast": 1.5}, TypeError, "fast"),
    ([1.0, 2.0, 3.0], {"period": 2, "bogus": 1}, TypeError, "unexpected keyword"),
]


@pytest.mark.parametrize("data, kwargs, exc, message", ERRORS)
def test_errors(data, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        kama.kama(data, **kwargs)


def test_argument_errors_are_pythons():
    with pytest.raises(TypeError, match="missing required argument 'data'"):
        kama.kama()
    with pytest.raises(TypeError, match="at most 3 positional"):
        kama.kama([1.0, 2.0], 1, None, 2)
    with pytest.raises(TypeError, match="multiple values for argument 'period'"):
        kama.kama([1.0, 2.0], 1, period=1)


def test_none_is_missing_as_numpy_casts_it():
    np.testing.assert_array_equal(kama.kama([1.0, None, 2.0, 3.0], 1), kama.kama([1.0, np.nan, 2.0, 3.0], 1))


def test_talib_mode_short_input_is_all_nan():
    y = kama.kama([1.0, 2.0, 3.0], 5, compat="talib")
    assert y.shape == (3,) and np.isnan(y).all()


def test_talib_period_one_copies_input():
    x = np.array([np.nan, 1.0, 2.0, np.nan, 4.0])
    np.testing.assert_array_equal(kama.kama(x, 1, compat="talib"), x)


def test_vectorta_signature_is_drop_in():
    x = BASE
    np.testing.assert_array_equal(kama.kama(x, 10, "scalar"), kama.kama(data=x, period=10, kernel="scalar_batch"))
    assert np.isnan(kama.kama(x)[:30]).all()  # period defaults to 30
