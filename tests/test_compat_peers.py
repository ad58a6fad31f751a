"""The tulipy and pandas_ta modes (SPEC §1) against the real packages, and the peers that share
their seeds: tulipy (Tulip Indicators), ta (KAMAIndicator) and pandas-ta-classic for
compat="tulipy"; pandas-ta for compat="pandas_ta" (it needs Python >= 3.12: the slow wheel test
installs it beside the wheel under 3.12 and runs this file there). VectorTA's batch errors are
here too. A package that is not installed skips its tests with the reason.

On ordinary data (random walks at every price scale, the BTC closes) each mode equals its
package to 1e-12 relative. Where a window is exactly flat the peers disagree with each other
(ER = 1 in Tulip and TA-Lib, 0 in ta, 1/p in the pandas-ta family): there kama follows its mode
exactly (the exact reference), and the tests check that the first bar where a peer parts from it
is such a window, which is the reason docs/peers.md gives."""
import sys
import warnings

import numpy as np
import pytest
from helpers import assert_close
from reference import kama_exact

import kama

N = 5000  # long enough for the SIMD path of every kernel
SCALES = [1e-8, 1e-4, 1.0, 1e3, 1e6]


def walk(scale, seed=0, n=N):
    rng = np.random.default_rng(seed)
    return scale * (100 + np.cumsum(rng.standard_normal(n)))


def with_flat_runs(seed=7):
    """A walk with exactly flat stretches of 40 and 200 bars, and a quarter-tick grid stretch
    (exact moves, so no peer's running sum drifts there)."""
    rng = np.random.default_rng(seed)
    a = 100 + np.cumsum(rng.standard_normal(1500))
    b = np.full(200, a[-1])
    c = b[-1] + np.cumsum(rng.standard_normal(1500))
    d = np.full(40, c[-1])
    e = np.round(4 * (d[-1] + np.cumsum(rng.standard_normal(1800)))) / 4
    return np.concatenate([a, b, c, d, e])


def max_rel(ours, theirs):
    """Max relative difference, after checking that NaN positions agree."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg="NaN positions differ")
    ok = ~np.isnan(theirs)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(ours[ok] - theirs[ok]) / np.maximum(np.abs(theirs[ok]), np.finfo(float).tiny)))


def flat_windows(x, period):
    """flat[i]: the window of moves i-p+1..i is exactly flat (S_i == 0)."""
    moves = np.abs(np.diff(x))
    flat = np.zeros(len(x), dtype=bool)
    zero = np.r_[0, np.cumsum(moves != 0)]  # nonzero moves up to each bar
    flat[period:] = zero[period:] == zero[:-period]
    return flat


def assert_parts_only_at_flat_windows(ours, theirs, x, period, compat, rel=1e-12):
    """ours is the exact answer of its mode; where the peer differs, the first difference is at
    an exactly flat window, whose efficiency ratio the peer defines otherwise."""
    assert_close(ours, kama_exact(x, period, compat=compat), x)
    with np.errstate(invalid="ignore"):
        apart = (np.isnan(ours) != np.isnan(theirs)) | (np.abs(ours - theirs) > rel * np.abs(theirs))
    if apart.any():
        first = int(np.argmax(apart))
        assert flat_windows(x, period)[first], f"the peer parts at bar {first}, whose window is not flat"


# ---- compat="tulipy" against Tulip Indicators ----------------------------------------------------


@pytest.fixture(scope="module")
def ti():
    return pytest.importorskip("tulipy", reason="tulipy (Tulip Indicators) is not installed")


def tulip_kama(ti, x, period):
    """Tulip returns n - p + 1 values; kama pads the front to the input's length (SPEC §1)."""
    return np.r_[np.full(period - 1, np.nan), ti.kama(np.ascontiguousarray(x), period)]


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("period", [1, 2, 10, 30])
def test_tulipy_random_walks(ti, kernel, scale, period):
    x = walk(scale, seed=period)
    assert max_rel(kama.kama(x, period, kernel=kernel, compat="tulipy"), tulip_kama(ti, x, period)) <= 1e-12


def test_tulipy_real_data(ti, kernel, btc_close):
    for period in (1, 2, 10, 30, 200):
        ours = kama.kama(btc_close, period, kernel=kernel, compat="tulipy")
        assert max_rel(ours, tulip_kama(ti, btc_close, period)) <= 1e-12


def test_tulipy_flat_runs(ti, kernel):
    x = with_flat_runs()
    for period in (5, 30):
        ours = kama.kama(x, period, kernel=kernel, compat="tulipy")
        assert_parts_only_at_flat_windows(ours, tulip_kama(ti, x, period), x, period, "tulipy")


def test_tulipy_leading_nans_and_shortest_input(ti, kernel):
    """Tulip carries a leading NaN into every output; kama skips the run (SPEC §1), so the body's
    numbers are Tulip's. A series of exactly `period` values gives one output, the seed."""
    body = walk(1.0, seed=3, n=600)
    x = np.r_[np.full(13, np.nan), body]
    ours = kama.kama(x, 9, kernel=kernel, compat="tulipy")
    assert np.isnan(ours[:13]).all()
    assert max_rel(ours[13:], tulip_kama(ti, body, 9)) <= 1e-12
    assert max_rel(kama.kama(body[:9], 9, kernel=kernel, compat="tulipy"), tulip_kama(ti, body[:9], 9)) == 0
    with pytest.raises(ValueError, match="Not enough valid data: needed = 9, valid = 8"):
        kama.kama(np.r_[np.nan, body[:8]], 9, compat="tulipy")


def test_tulipy_mode_is_talib_with_the_seed_in_front(kernel):
    """SPEC §1: from f + p on, compat="tulipy" is compat="talib", bit for bit, in every kernel."""
    x = np.r_[np.full(5, np.nan), walk(1.0, seed=11)]
    for period in (2, 10, 30):
        tu = kama.kama(x, period, kernel=kernel, compat="tulipy")
        tl = kama.kama(x, period, kernel=kernel, compat="talib")
        np.testing.assert_array_equal(tu[5 + period:], tl[5 + period:])
        assert tu[5 + period - 1] == x[5 + period - 1] and np.isnan(tl[5 + period - 1])


# ---- the rest of Tulip's family: ta and pandas-ta-classic ---------------------------------------


@pytest.fixture(scope="module")
def ta_kama():
    momentum = pytest.importorskip("ta.momentum", reason="the ta package is not installed")
    pd = pytest.importorskip("pandas")

    def run(x, period, fast=2, slow=30):
        return momentum.KAMAIndicator(pd.Series(x), window=period, pow1=fast, pow2=slow).kama().to_numpy()
    return run


@pytest.fixture(scope="module")
def classic_kama():
    ptc = pytest.importorskip("pandas_ta_classic", reason="pandas-ta-classic is not installed")
    pd = pytest.importorskip("pandas")

    def run(x, period, fast=2, slow=30):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its import-time and numba notices
            return ptc.kama(pd.Series(x), length=period, fast=fast, slow=slow).to_numpy()
    return run


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("period, fast, slow", [(2, 2, 30), (10, 2, 30), (30, 5, 50)])
def test_ta_and_pandas_ta_classic_random_walks(ta_kama, classic_kama, kernel, scale, period, fast, slow):
    x = walk(scale, seed=period + 1)
    ours = kama.kama(x, period, kernel=kernel, compat="tulipy", fast=fast, slow=slow)
    assert max_rel(ours, ta_kama(x, period, fast, slow)) <= 1e-12
    assert max_rel(ours, classic_kama(x, period, fast, slow)) <= 1e-12


def test_ta_and_pandas_ta_classic_real_data(ta_kama, classic_kama, btc_close):
    for period in (2, 10, 30, 200):
        ours = kama.kama(btc_close, period, compat="tulipy")
        for peer in (ta_kama, classic_kama):
            assert_parts_only_at_flat_windows(ours, peer(btc_close, period), btc_close, period, "tulipy")
            if not flat_windows(btc_close, period).any():
                assert max_rel(ours, peer(btc_close, period)) <= 1e-12


def test_ta_and_pandas_ta_classic_flat_runs(ta_kama, classic_kama, kernel):
    """ta's ER is 0 on a flat window, pandas-ta-classic's 1/p (each zero move becomes an epsilon):
    both part from TA-Lib's rule there, and only there."""
    x = with_flat_runs(seed=9)
    for period in (5, 30):
        ours = kama.kama(x, period, kernel=kernel, compat="tulipy")
        for peer in (ta_kama, classic_kama):
            theirs = peer(x, period)
            assert max_rel(ours[:1500], theirs[:1500]) <= 1e-12  # before the first flat run
            assert_parts_only_at_flat_windows(ours, theirs, x, period, "tulipy")


# ---- compat="pandas_ta" against pandas-ta --------------------------------------------------------


@pytest.fixture(scope="module")
def pandas_ta_kama():
    if sys.version_info < (3, 12):
        pytest.skip("pandas-ta needs Python >= 3.12 (the slow wheel test runs this file under 3.12 with it)")
    pta = pytest.importorskip("pandas_ta", reason="pandas-ta is not installed")
    pd = pytest.importorskip("pandas")

    def run(x, period, fast=2, slow=30):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pta.kama(pd.Series(x), length=period, fast=fast, slow=slow).to_numpy()
    return run


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("period, fast, slow", [(2, 2, 30), (10, 2, 30), (30, 5, 50)])
def test_pandas_ta_random_walks(pandas_ta_kama, kernel, scale, period, fast, slow):
    x = walk(scale, seed=period + 2)
    ours = kama.kama(x, period, kernel=kernel, compat="pandas_ta", fast=fast, slow=slow)
    assert max_rel(ours, pandas_ta_kama(x, period, fast, slow)) <= 1e-12


def test_pandas_ta_real_data(pandas_ta_kama, kernel, btc_close):
    for period in (2, 10, 30, 200):
        ours = kama.kama(btc_close, period, kernel=kernel, compat="pandas_ta")
        assert max_rel(ours, pandas_ta_kama(btc_close, period)) <= 1e-12


def test_pandas_ta_flat_runs(pandas_ta_kama, kernel):
    """pandas-ta adds machine epsilon (2.2e-16, absolute) to every move and every p-step change
    once any of them is exactly 0: a flat window then has ER = 1/p, SPEC §1's rule. At ordinary
    prices the epsilon is below an ulp of the moves; on a satoshi-priced series it shifts them by
    ~1e-6 relative, and its results by up to ~1e-4 (bench/compare_peers.py measured 4.8e-5;
    docs/peers.md lists it). The effect is about 5e-13 / price relative: at a price of 1 it is
    below 1e-12, at 1e-2 it is ~5e-11."""
    x = with_flat_runs(seed=5)
    for period in (5, 30):
        ours = kama.kama(x, period, kernel=kernel, compat="pandas_ta")
        assert max_rel(ours, pandas_ta_kama(x, period)) <= 1e-12
        assert_close(ours, kama_exact(x, period, compat="pandas_ta"), x)
    # The epsilon's share of a move is ~5e-13 / price: visible below prices of ~0.5.
    for scale, low, high in ((1e-2, 0.0, 1e-10), (1e-10, 1e-11, 1e-3)):
        tiny = x * scale
        ours = kama.kama(tiny, 10, kernel=kernel, compat="pandas_ta")
        assert_close(ours, kama_exact(tiny, 10, compat="pandas_ta"), tiny)
        assert low <= max_rel(ours, pandas_ta_kama(tiny, 10)) < high


def test_pandas_ta_leading_nans(pandas_ta_kama):
    """pandas-ta's seed is the mean of the first p rows, NaN with a leading NaN run, and so is
    every later value; kama seeds with the first p valid prices (SPEC §1)."""
    body = walk(1.0, seed=4, n=400)
    x = np.r_[np.full(6, np.nan), body]
    assert np.isnan(pandas_ta_kama(x, 10)).all()
    assert max_rel(kama.kama(x, 10, compat="pandas_ta")[6:], pandas_ta_kama(body, 10)) <= 1e-12


# ---- VectorTA's kama_batch: ranges, labels and errors --------------------------------------------


@pytest.fixture(scope="module")
def vector_ta():
    return pytest.importorskip("vector_ta", reason="vector-ta is not installed")


def test_vector_ta_batch_descending_and_labels(vector_ta):
    x = walk(1.0, seed=21, n=700)
    for rng in [(40, 10, 10), (40, 10, 7), (30, 30, 0), (50, 2, 16), (12, 3, 3)]:
        ours, theirs = kama.kama_batch(x, rng), vector_ta.kama_batch(x, rng)
        assert ours["periods"].dtype == theirs["periods"].dtype
        assert ours["periods"].tolist() == theirs["periods"].tolist()
        assert max_rel(ours["values"], theirs["values"]) <= 1e-12


@pytest.mark.parametrize("data, rng", [([], (2, 3, 1)), ([np.nan] * 5, (2, 3, 1)), ([1.0, 2.0, 3.0], (2, 3, 1)),
                                       ([np.nan, 1.0, 2.0, 3.0, 4.0], (3, 4, 1))],
                         ids=["empty", "all-nan", "short", "leading-nan-short"])
def test_vector_ta_batch_errors(vector_ta, data, rng):
    """The same exception and the same message after the function name (VectorTA names its
    inner 'kama')."""
    x = np.asarray(data, dtype=float)
    with pytest.raises(ValueError) as theirs:
        vector_ta.kama_batch(x, rng)
    with pytest.raises(ValueError) as ours:
        kama.kama_batch(x, rng)
    assert str(ours.value).split(": ", 1)[1] == str(theirs.value).split(": ", 1)[1]
