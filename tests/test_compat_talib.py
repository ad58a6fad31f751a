"""compat="talib" against the real talib package (TA-Lib C 0.8.1 as `ta-lib` 0.8.x ships it):
the flat-window rule without an epsilon, and empty, all-NaN and short input (SPEC §1)."""
import numpy as np
import pytest
from helpers import assert_close, assert_matches_peer
from reference import kama_exact

import kama

talib = pytest.importorskip("talib", reason="the talib package (ta-lib on PyPI) is not installed")

N = 5000  # long enough for the SIMD path of every kernel


def walk(scale, seed=0, n=N):
    rng = np.random.default_rng(seed)
    return scale * (100 + np.cumsum(rng.standard_normal(n)))


@pytest.mark.parametrize("scale", [1e-8, 1e-4, 1.0, 1e3, 1e6])
@pytest.mark.parametrize("period", [2, 10, 30])
def test_random_walks_at_every_scale(kernel, scale, period):
    x = walk(scale, seed=period)
    assert_matches_peer(kama.kama(x, period, kernel=kernel, compat="talib"), talib.KAMA(x, period), x, period, "talib")


def test_satoshi_priced_series(kernel):
    """A token quoted in BTC: ~3e-8, moving ~1e-10 a bar. TA-Lib 0.8 dropped its absolute 1e-8
    flat test for such series; with it kama differed from talib.KAMA by 2.2% relative."""
    rng = np.random.default_rng(1)
    x = 3e-8 + np.cumsum(rng.standard_normal(N)) * 1e-10
    x = np.abs(x) + 1e-9
    for period in (10, 30):
        ours, theirs = kama.kama(x, period, kernel=kernel, compat="talib"), talib.KAMA(x, period)
        ok = ~np.isnan(theirs)
        assert (np.isnan(ours) == np.isnan(theirs)).all()
        assert np.max(np.abs(ours[ok] - theirs[ok]) / np.abs(theirs[ok])) < 1e-9
        assert_close(ours, kama_exact(x, period, compat="talib"), x)


def test_flat_runs(kernel):
    """Exactly flat windows (S == 0 == R) have ER = 1 in TA-Lib's rule, as do rising-only ones."""
    x = np.concatenate([np.full(1500, 5.0), np.arange(1500.0) * 0.01 + 5, np.full(1000, 20.0),
                        20 - np.arange(1000.0) * 0.02])
    for period in (5, 30):
        ours = kama.kama(x, period, kernel=kernel, compat="talib")
        assert_matches_peer(ours, talib.KAMA(x, period), x, period, "talib")
        assert_close(ours, kama_exact(x, period, compat="talib"), x)


@pytest.mark.parametrize("data", [np.array([]), np.full(10, np.nan), np.arange(5.0), np.array([np.nan, 1.0, 2.0]),
                                  np.r_[np.full(3, np.nan), 1.0, 2.0, 3.0]],
                         ids=["empty", "all-nan", "short", "nan-and-short", "leading-nan-short"])
def test_empty_all_nan_and_short_input_as_talib(kernel, data):
    for period in (2, 3, 30):
        ours = kama.kama(data, period, kernel=kernel, compat="talib")
        theirs = talib.KAMA(data, period)
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        np.testing.assert_allclose(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)], rtol=1e-12)


def test_empty_and_all_nan_in_every_entry_point():
    for data in (np.array([]), np.full(7, np.nan)):
        assert np.isnan(kama.kama(data, 3, compat="talib")).all()
        res = kama.kama_batch(data, (2, 4, 1), compat="talib")
        assert res["values"].shape == (3, len(data)) and np.isnan(res["values"]).all()
        assert np.isnan(kama.KamaStream(3, compat="talib").update_many(data)).all()
    panel = np.vstack([np.full(40, np.nan), walk(1.0, n=40)])
    y = kama.kama(panel, 5, compat="talib")
    assert np.isnan(y[0]).all()
    np.testing.assert_array_equal(y[1], kama.kama(panel[1], 5, compat="talib"))
    with pytest.raises(ValueError, match="Invalid period"):  # the period is still checked
        kama.kama(np.array([]), 0, compat="talib")


def test_real_data(btc_close, kernel):
    for period in (10, 30):
        assert_matches_peer(kama.kama(btc_close, period, kernel=kernel, compat="talib"), talib.KAMA(btc_close, period),
                            btc_close, period, "talib")
