"""kama_batch(): every row equals the single-series call (with the kernel helpers.sweep_kernel
names: the scalar kernel's arithmetic once a SIMD kernel runs periods side by side)."""
import numpy as np
import pytest

from helpers import PANEL_LANES, live_buffers, sweep_kernel, valid_for

import kama

X = 100 + np.cumsum(np.random.default_rng(21).standard_normal(500))


def test_rows_equal_single_calls(kernel, compat):
    res = kama.kama_batch(X, (2, 40, 3), kernel=kernel, compat=compat, fast=3, slow=25)
    assert set(res) == {"values", "periods"}
    values, periods = res["values"], res["periods"]
    assert values.dtype == np.float64 and values.shape == (len(periods), len(X))
    assert periods.dtype == np.uint64  # VectorTA's dtype
    assert periods.tolist() == list(range(2, 41, 3))
    single = sweep_kernel(kernel, len(periods))
    for row, p in zip(values, periods):
        np.testing.assert_array_equal(row, kama.kama(X, int(p), kernel=single, compat=compat, fast=3, slow=25))


@pytest.mark.parametrize(
    "period_range, want",
    [
        ((30, 30, 0), [30]),
        ((5, 9, 0), [5]),
        ((7, 7, 3), [7]),
        ((3, 8, 2), [3, 5, 7]),
        ((3, 9, 2), [3, 5, 7, 9]),
        ((3, 5, 10), [3]),
        ((7, 3, 0), [7]),
        ((7, 3, 2), [7, 5, 3]),  # start > end walks down, as VectorTA does (SPEC §3)
        ((40, 10, 10), [40, 30, 20, 10]),
        ((9, 3, 4), [9, 5]),
        ((3, 5, 2**62), [3]),
    ],
)
def test_period_range(period_range, want):
    assert kama.kama_batch(X, period_range)["periods"].tolist() == want


def test_period_range_matches_vector_ta():
    vector_ta = pytest.importorskip("vector_ta")
    for pr in [(3, 8, 2), (5, 5, 0), (7, 3, 0), (2, 30, 7), (40, 10, 10), (7, 3, 2), (9, 3, 4)]:
        ours, theirs = kama.kama_batch(X, pr), vector_ta.kama_batch(X, pr)
        assert ours["periods"].tolist() == theirs["periods"].tolist()
        np.testing.assert_allclose(ours["values"], theirs["values"], rtol=0, atol=1e-12 * np.abs(X).max())


def test_periods_list_keeps_order():
    res = kama.kama_batch(X, periods=[30, 2, 14, 2])
    assert res["periods"].tolist() == [30, 2, 14, 2]
    np.testing.assert_array_equal(res["values"][1], kama.kama(X, 2, kernel=sweep_kernel(None, 4)))
    np.testing.assert_array_equal(res["values"][3], kama.kama(X, 2, kernel=sweep_kernel(None, 4)))
    np.testing.assert_array_equal(kama.kama_batch(X, periods=np.array([5, 6]))["values"][1],
                                  kama.kama(X, 6, kernel=sweep_kernel(None, 2)))


def test_default_is_period_30():
    res = kama.kama_batch(X)
    assert res["periods"].tolist() == [30]
    np.testing.assert_array_equal(res["values"][0], kama.kama(X, 30))


def test_talib_mode_long_periods_are_nan_rows():
    res = kama.kama_batch(X[:20], periods=[5, 50], compat="talib")
    assert np.isnan(res["values"][1]).all()
    np.testing.assert_array_equal(res["values"][0], kama.kama(X[:20], 5, compat="talib"))


@pytest.mark.parametrize(
    "args, kwargs, exc, message",
    [
        (([],), {}, ValueError, "All values are NaN"),  # VectorTA's kama_batch message for empty input
        (([np.nan] * 4, (2, 3, 1)), {}, ValueError, "All values are NaN"),
        ((X, (0, 3, 1)), {}, ValueError, "Invalid period"),
        ((X, (-3, 3, 1)), {}, ValueError, "Invalid period"),
        ((X, (600, 700, 100)), {}, ValueError, "Invalid period"),
        ((X, (400, 600, 100)), {}, ValueError, "Not enough valid data: needed = 501"),
        ((X[:10], (5, 10, 5)), {}, ValueError, "Not enough valid data"),
        ((X, (3, 8, -1)), {}, ValueError, "Invalid range"),
        ((X, (2**63 - 1, -(2**63), 2**62)), {}, ValueError, "Invalid period: period = 9223372036854775807"),
        ((X, (5, -1, 2)), {}, ValueError, "Invalid period: period = -1"),  # walks down past 1
        ((X,), {"periods": []}, ValueError, "Invalid range"),
        ((X, (3, 8)), {}, ValueError, "Invalid range: period_range must have 3 items"),
        ((X, 5), {}, TypeError, "period_range"),
        ((X, (3.0, 8, 1)), {}, TypeError, "integer"),
        ((X,), {"periods": [3, "a"]}, TypeError, "integer"),
        ((X,), {"periods": 5}, TypeError, "periods"),
        ((X, (3, 8, 1)), {"periods": [3]}, TypeError, "not both"),
        ((X, (3, 8, 1)), {"fast": 0}, ValueError, "Invalid fast"),
        ((X, (3, 8, 1)), {"kernel": "nope"}, ValueError, "Unknown kernel"),
    ],
)
def test_errors(args, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        kama.kama_batch(*args, **kwargs)


def test_huge_sweep_is_memory_error_at_once():
    before = live_buffers()
    for period_range, rows in [((1, 2**62, 1), 2**62), ((1, 2**40, 1), 2**40), ((2**62, 1, 1), 2**62),
                               ((1, 2**63 - 1, 1), 2**63 - 1)]:
        with pytest.raises(MemoryError, match=rf"Unable to allocate .* shape \({rows}, {len(X)}\) and data type float64"):
            kama.kama_batch(X, period_range, compat="talib")
    assert live_buffers() == before


def test_sweeps_are_validated_before_they_are_sized():
    """SPEC §5: a bad row is reported before the sweep's size is (issue 8, defect 4)."""
    x = X[:50]
    with pytest.raises(ValueError, match="Invalid period: period = -5"):
        kama.kama_batch(x, (-5, 2**61, 1))
    with pytest.raises(ValueError, match="Not enough valid data: needed = 51, valid = 50"):
        kama.kama_batch(x, (1, 2**62, 1))  # row 50 is the first bad one, as in a loop of kama()
    with pytest.raises(ValueError, match="Invalid period: period = 51, data length = 50"):
        kama.kama_batch(x, (1, 2**62, 50))
    with pytest.raises(ValueError, match="Invalid period: period = -9223372036854775808"):
        kama.kama_batch(x, (-(2**63), 2**63 - 1, 1), compat="talib")
    with pytest.raises(ValueError, match="Invalid range: period_range start = -1267650600228229401496703205376 does not fit"):
        kama.kama_batch(x, (-(2**100), 2**100, 1))


def test_huge_range_is_validated_before_it_is_built():
    """A range far longer than the data fails on its first bad row, not after expanding it."""
    with pytest.raises(ValueError, match="Not enough valid data: needed = 51"):
        kama.kama_batch(X[:50], (1, 2**40, 1))
    with pytest.raises(ValueError, match="Invalid period: period = 0"):
        kama.kama_batch(X[:50], (0, 2**40, 1), compat="talib")


# ---- 2-D data: many series x many periods (SPEC §3) ---------------------------------------------


def test_2d_batch_is_series_by_periods(compat):
    rng = np.random.default_rng(12)
    panel = 100 + np.cumsum(rng.standard_normal((5, 3000)), axis=1)
    for threads in (1, 2, None):
        res = kama.kama_batch(panel, (5, 45, 20), compat=compat, unstable_period=3, threads=threads)
        assert res["values"].shape == (5, 3, 3000) and res["periods"].tolist() == [5, 25, 45]
        for j in range(5):
            for k, p in enumerate((5, 25, 45)):
                np.testing.assert_array_equal(  # 3 periods: fewer than a group of lanes but NEON's
                    res["values"][j, k],
                    kama.kama(panel[j], p, compat=compat, unstable_period=3, threads=1, kernel=sweep_kernel(None, 3)))
    f32 = kama.kama_batch(panel.T.astype(np.float32).T, periods=[7])  # strided float32: converted
    rows = panel.astype(np.float32).astype(float)
    np.testing.assert_array_equal(f32["values"][:, 0], np.stack([kama.kama(r, 7, kernel=sweep_kernel(None, 1)) for r in rows]))


def test_2d_batch_errors_name_the_series():
    panel = np.vstack([np.arange(50.0), np.r_[np.full(45, np.nan), np.arange(5.0)]])
    with pytest.raises(ValueError, match=r"kama_batch \(series 1\): Not enough valid data: needed = 6, valid = 5"):
        kama.kama_batch(panel, (5, 10, 5))
    with pytest.raises(ValueError, match=r"kama_batch \(series 1\): All values are NaN"):
        kama.kama_batch(np.vstack([np.arange(20.0), np.full(20, np.nan)]), (3, 3, 0))
    assert kama.kama_batch(np.empty((0, 30)), (3, 4, 1))["values"].shape == (0, 2, 30)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        kama.kama_batch(np.zeros((2, 2, 30)), (3, 4, 1))
    with pytest.raises(MemoryError, match=r"Unable to allocate .* shape \(1000, 1000000, 100\)"):
        kama.kama_batch(np.broadcast_to(np.arange(100.0), (1000, 100)), (1, 10**6, 1), compat="talib")


# ---- periods side by side (csrc/kernels/simd_sweep.hpp) ---------------------------------------------


def sweep_data(n, seed, lead=0, hole=None, spike=None):
    x = 100 + np.cumsum(np.random.default_rng(seed).standard_normal(n))
    x[:lead] = np.nan
    if hole is not None:
        x[hole] = np.nan
    if spike is not None:
        x[spike] = 1e12
    return x


@pytest.mark.parametrize("periods", [
    list(range(5, 69)),                 # consecutive: contiguous loads
    list(range(2, 300, 7)),             # a step: gathers
    [30, 5, 5, 200, 17, 3, 2, 64, 1000, 31, 1, 4, 9],  # any order, a repeat, period 1
    list(range(1, 12)),                 # one group and an overlapping one
])
def test_sweep_side_by_side_equals_the_scalar_kernel(simd, compat, periods):
    """Every row of a sweep with a SIMD kernel is the scalar kernel's, bit for bit: leading NaNs,
    a NaN inside, a spike, unstable_period and threads included."""
    x = sweep_data(5000, len(periods), lead=3, spike=2500, hole=4100 if compat != "vectorta" else None)
    for unstable in (0, 4):
        want = np.stack([kama.kama(x, p, kernel="scalar", compat=compat, unstable_period=unstable) for p in periods])
        for threads in (1, 2, None):
            res = kama.kama_batch(x, periods=periods, kernel=simd, compat=compat, unstable_period=unstable, threads=threads)
            assert res["periods"].tolist() == periods
            np.testing.assert_array_equal(res["values"], want)


@pytest.mark.parametrize("n", [4, 7, 8, 9, 15, 16, 17, 40, 1025, 1030])
def test_sweep_side_by_side_short(simd, compat, n):
    """Lengths around a tile of lanes, the first outputs and the backward pass's tile; periods
    whose first output lies past n (TA-Lib's NaN rows) run alone. Too few valid periods for a
    group are repeated until they fill one."""
    lanes = PANEL_LANES[simd]
    x = sweep_data(n, n, lead=1)
    periods = [p for p in range(1, n + 2) if compat == "talib" or valid_for(x, p, compat)]
    periods = (periods * lanes)[: max(lanes, len(periods))]
    want = np.stack([kama.kama(x, p, kernel="scalar", compat=compat) for p in periods])
    np.testing.assert_array_equal(kama.kama_batch(x, periods=periods, kernel=simd, compat=compat)["values"], want)


def test_sweep_side_by_side_large_and_2d(simd):
    """Results large enough to bypass the cache, rows aligned to a vector or not, and the
    series x periods layout."""
    for n in (140_000, 140_003):
        x = sweep_data(n, 3)
        res = kama.kama_batch(x, (10, 10 + PANEL_LANES[simd] + 2, 1), kernel=simd)
        for row, p in zip(res["values"], res["periods"]):
            np.testing.assert_array_equal(row, kama.kama(x, int(p), kernel="scalar"))
    panel = np.stack([sweep_data(3000, s, lead=s) for s in range(3)])
    res = kama.kama_batch(panel, (3, 30, 3), kernel=simd)
    for j in range(3):
        for k, p in enumerate(res["periods"]):
            np.testing.assert_array_equal(res["values"][j, k], kama.kama(panel[j], int(p), kernel="scalar"))


@pytest.mark.parametrize("periods", [
    [60_000 + 3 * k for k in range(8)],        # long periods: one backward pass serves many tiles
    [2, 3, 900, 5000, 20_000, 40_000, 65_000, 65_536],  # short and long in one group
    list(range(4093, 4093 + 8)),               # consecutive, blocks a few tiles long
])
def test_sweep_side_by_side_long_periods(simd, periods):
    """Periods far past the backward pass's tile keep the scalar kernel's bits (the sums of a
    block are made once and kept across tiles), with leading NaNs and a spike."""
    x = sweep_data(200_003, len(periods), lead=7, spike=70_001)
    res = kama.kama_batch(x, periods=periods, kernel=simd)
    for row, p in zip(res["values"], periods):
        np.testing.assert_array_equal(row, kama.kama(x, p, kernel="scalar"))


def test_sweep_over_many_short_series_stays_small(simd):
    """Many series of a few bars (no group can take a row): the plan is made per series from
    offsets, not a record per row; results are the scalar kernel's."""
    panel = np.stack([sweep_data(12, s) for s in range(3000)])
    res = kama.kama_batch(panel, (2, 40, 1), kernel=simd, compat="talib")  # short rows are NaN
    for j in (0, 1234, 2999):
        for k, p in enumerate(res["periods"]):
            np.testing.assert_array_equal(res["values"][j, k], kama.kama(panel[j], int(p), kernel="scalar", compat="talib"))
    assert np.isnan(res["values"][:, 12:]).all() and not np.isnan(res["values"][:, :5, -1]).any()
