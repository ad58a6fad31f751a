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


@pytest.mark.parametrize("period, unstable", [(10, 5), (30, 1), (1, 3), (2, 0), (30, 2000)])  # 2000: TA-Lib's limit
def test_unstable_period_as_talib(kernel, period, unstable):
    """TA-Lib's set_unstable_period('KAMA', N): the first N outputs become NaN, the later ones are
    unchanged (SPEC §1); here a keyword, in every entry point."""
    x = np.r_[np.full(3, np.nan), walk(1.0, seed=5, n=N)]
    talib.set_unstable_period("KAMA", unstable)
    try:
        theirs = talib.KAMA(x, period)
    finally:
        talib.set_unstable_period("KAMA", 0)
    ours = kama.kama(x, period, kernel=kernel, compat="talib", unstable_period=unstable)
    assert_matches_peer(ours, theirs, x, period, "talib")
    plain = kama.kama(x, period, kernel=kernel, compat="talib")
    muted = np.isnan(ours) & ~np.isnan(plain)
    assert muted.sum() == min(unstable, int((~np.isnan(plain)).sum()))
    np.testing.assert_array_equal(ours[~muted], plain[~muted])  # the later values are unchanged


@pytest.mark.parametrize("compat", ["vectorta", "talib"])
def test_unstable_period_in_every_entry_point(compat):
    x = np.r_[np.nan, walk(1.0, seed=6, n=300)]
    for period, unstable in [(5, 0), (5, 7), (1, 2), (30, 270), (30, 271), (30, 10**6)]:
        if compat == "vectorta" and period == 1:
            continue
        want = kama.kama(x, period, kernel="scalar", compat=compat, unstable_period=unstable)
        first = 1 + (0 if compat == "talib" and period == 1 else period)
        assert np.isnan(want[: first + unstable]).all() and not np.isnan(want[first + unstable:]).any()
        s = kama.KamaStream(period, compat=compat, unstable_period=unstable)
        assert s.unstable_period == unstable
        got = [s.update(v) for v in x]
        np.testing.assert_array_equal(np.array([np.nan if v is None else v for v in got]), want)
        assert s.ready == bool(np.isfinite(want).any())
        t = kama.KamaStream(period, compat=compat, unstable_period=unstable)
        np.testing.assert_array_equal(t.update_many(x), want)  # bit for bit the scalar kernel
        res = kama.kama_batch(x, periods=[period, period], compat=compat, unstable_period=unstable)
        np.testing.assert_array_equal(res["values"][1], kama.kama(x, period, compat=compat,
                                                                  unstable_period=unstable, threads=1))
        panel = kama.kama(np.vstack([x, x]), period, compat=compat, unstable_period=unstable)
        np.testing.assert_array_equal(panel[1], kama.kama(x, period, compat=compat, unstable_period=unstable))


def test_stream_pickles_the_unstable_period_and_reads_old_states():
    import pickle

    x = walk(1.0, seed=7, n=200)
    s = kama.KamaStream(8, compat="talib", unstable_period=5)
    s.update_many(x[:12])  # 4 outputs muted so far
    t = pickle.loads(pickle.dumps(s))
    assert t.unstable_period == 5 and not t.ready
    np.testing.assert_array_equal(t.update_many(x[12:]), s.update_many(x[12:]))
    old = kama.KamaStream(8, compat="talib")
    old.update_many(x[:50])
    state = old.__reduce__()[2]
    restored = kama.KamaStream(3)
    restored.__setstate__(state[:11])  # kama 0.1.0's 11-tuple: no unstable period
    assert restored.unstable_period == 0 and restored.ready
    np.testing.assert_array_equal(restored.update_many(x[50:]), old.update_many(x[50:]))
