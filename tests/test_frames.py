"""pandas and polars in and out (SPEC §3): a Series gives a Series (same index and name), a
DataFrame a DataFrame with one series per column, kama_batch of a Series a DataFrame with one
column per period; polars' missing outputs are null; the polars expression works in lazy
frames and per group. Neither library is imported by kama or by an ndarray call."""
import subprocess
import sys

import numpy as np
import pytest

import kama

pd = pytest.importorskip("pandas", reason="pandas is not installed")


def walk(n, seed=0):
    return 100 + np.cumsum(np.random.default_rng(seed).standard_normal(n))


@pytest.fixture
def series():
    idx = pd.date_range("2024-01-01", periods=500, freq="4h", tz="UTC")
    return pd.Series(walk(500), index=idx, name="BTC")


@pytest.fixture
def wide():
    idx = pd.date_range("2024-01-01", periods=400, freq="D")
    return pd.DataFrame({"BTC": walk(400, 1), "ETH": walk(400, 2), "SOL": walk(400, 3)}, index=idx)


def test_series_in_series_out(series):
    y = kama.kama(series, 30, compat="talib")
    assert isinstance(y, pd.Series) and y.name == "BTC" and y.index.equals(series.index)
    np.testing.assert_array_equal(y.to_numpy(), kama.kama(series.to_numpy(), 30, compat="talib"))
    talib = pytest.importorskip("talib")
    np.testing.assert_allclose(y.to_numpy(), talib.KAMA(series, 30).to_numpy(), rtol=1e-12)


def test_wide_frame_is_one_series_per_column(wide):
    """Rows are timestamps, columns symbols: fewer symbols than period + 1 is fine, and axis
    does not turn a frame around (SPEC §3)."""
    for kw in ({}, {"axis": -1}, {"axis": 0}):
        y = kama.kama(wide, 30, **kw)
        assert isinstance(y, pd.DataFrame) and y.index.equals(wide.index) and y.columns.equals(wide.columns)
        for c in wide.columns:
            np.testing.assert_array_equal(y[c].to_numpy(), kama.kama(wide[c].to_numpy(), 30))


def test_long_frame_with_groupby():
    """One row per (time, symbol), symbols interleaved: groupby().transform gives each symbol's
    own series back in place."""
    closes = {sym: walk(300, seed) for seed, sym in enumerate("ABC")}
    long = pd.DataFrame({"time": np.repeat(np.arange(300), 3), "symbol": np.tile(list("ABC"), 300),
                         "close": np.column_stack([closes[c] for c in "ABC"]).ravel()})
    y = long.groupby("symbol")["close"].transform(lambda s: kama.kama(s, 20))
    for sym in "ABC":
        np.testing.assert_array_equal(y[long["symbol"] == sym].to_numpy(), kama.kama(closes[sym], 20))


def test_missing_values_and_nullable_dtypes(series):
    s = series.copy()
    s.iloc[[40, 41, 300]] = np.nan
    y = kama.kama(s, 30, nan_policy="skip")
    np.testing.assert_array_equal(y.dropna().to_numpy(), kama.kama(s.dropna().to_numpy(), 30)[30:])
    nullable = s.astype("Float64")  # pd.NA, not NaN
    np.testing.assert_array_equal(kama.kama(nullable, 30, nan_policy="skip").to_numpy(), y.to_numpy())
    ints = pd.Series(np.arange(100), dtype="Int64")
    ints.iloc[50] = pd.NA
    assert kama.kama(ints, 5, nan_policy="skip").isna().sum() == 6


def test_batch_of_a_series_is_a_frame_of_periods(series, wide):
    res = kama.kama_batch(series, (10, 30, 10), compat="tulipy")
    assert isinstance(res, pd.DataFrame) and res.columns.tolist() == [10, 20, 30] and res.columns.name == "period"
    assert res.index.equals(series.index)
    np.testing.assert_array_equal(res[20].to_numpy(), kama.kama(series.to_numpy(), 20, compat="tulipy"))
    panel = kama.kama_batch(wide, periods=[5, 14])
    assert panel.columns.tolist() == [(c, p) for c in wide.columns for p in (5, 14)]
    np.testing.assert_array_equal(panel[("ETH", 14)].to_numpy(), kama.kama(wide["ETH"].to_numpy(), 14))


def test_stream_update_many_of_a_series(series):
    s = kama.KamaStream(30)
    y = s.update_many(series)
    assert isinstance(y, pd.Series) and y.index.equals(series.index) and y.name == "BTC"
    np.testing.assert_array_equal(y.to_numpy(), kama.kama(series.to_numpy(), 30, kernel="scalar"))


def test_out_and_errors(series, wide):
    out = np.empty(len(series))
    y = kama.kama(series, 30, out=out)
    np.testing.assert_array_equal(y.to_numpy(), out)
    with pytest.raises(ValueError, match=r"kama \(column 'ETH'\): Not enough valid data"):
        kama.kama(wide.assign(ETH=np.r_[np.full(395, np.nan), 1.0, 2.0, 3.0, 4.0, 5.0]), 10)
    with pytest.raises(TypeError, match="real numbers"):
        kama.kama(pd.Series(["a", "b", "c"]), 2)
    with pytest.raises(TypeError, match="real numbers"):
        kama.kama(wide.assign(name="x"), 2)
    with pytest.raises(ValueError, match="Invalid period"):
        kama.kama(series.iloc[:10], 30)


def test_ndarray_calls_import_neither_library(tmp_path):
    code = ("import sys, numpy as np, kama\n"
            "x = np.arange(100.0)\n"
            "kama.kama(x, 5); kama.kama_batch(x, (2, 4, 1)); kama.KamaStream(5).update_many(x)\n"
            "kama.kama(list(x), 5); kama.kama(np.ma.masked_array(x), 5)\n"
            "print(sorted(m for m in ('pandas', 'polars') if m in sys.modules))\n")
    # From another folder: in the source tree `import kama` would find the unbuilt package.
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


# ---- polars ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pl():
    polars = pytest.importorskip("polars", reason="polars is not installed")
    import kama.polars  # noqa: F401 (registers Expr.kama)
    return polars


def test_polars_series_and_frame(pl):
    x = walk(300, 6)
    x[[100, 101]] = np.nan
    s = pl.Series("close", x).fill_nan(None)  # nulls in, as polars users have them
    y = kama.kama(s, 20, nan_policy="skip")
    assert isinstance(y, pl.Series) and y.name == "close" and y.dtype == pl.Float64
    want = kama.kama(x, 20, nan_policy="skip")
    assert y.null_count() == int(np.isnan(want).sum())  # warm-up and skipped bars are null, not NaN
    np.testing.assert_array_equal(y.fill_null(np.nan).to_numpy(), want)
    df = pl.DataFrame({"a": walk(200, 7), "b": walk(200, 8)})
    out = kama.kama(df, 15)
    assert isinstance(out, pl.DataFrame) and out.columns == ["a", "b"]
    np.testing.assert_array_equal(out["b"].fill_null(np.nan).to_numpy(), kama.kama(df["b"].to_numpy(), 15))
    batch = kama.kama_batch(df["a"], (10, 20, 10))
    assert batch.columns == ["kama_10", "kama_20"]
    assert kama.kama_batch(df, periods=[3]).columns == ["a_kama_3", "b_kama_3"]
    st = kama.KamaStream(15).update_many(df["a"])
    assert isinstance(st, pl.Series) and st.null_count() == 15
    with pytest.raises(TypeError, match="real numbers"):
        kama.kama(pl.Series(["x", "y"]), 1)


def test_polars_expression_lazy_and_per_group(pl):
    sym = np.repeat(["A", "B", "C"], [120, 200, 80])
    close = np.concatenate([walk(120, 1), walk(200, 2), walk(80, 3)])
    df = pl.DataFrame({"symbol": sym, "close": close})
    lazy = df.lazy().with_columns(k=pl.col("close").kama(30, compat="talib").over("symbol"))
    got = lazy.collect()["k"].fill_null(np.nan).to_numpy()
    want = np.concatenate([kama.kama(close[sym == s], 30, compat="talib") for s in ("A", "B", "C")])
    np.testing.assert_array_equal(got, want)
    import kama.polars as kp

    same = df.with_columns(k=kp.kama("close", 30, compat="talib").over("symbol"))["k"]
    np.testing.assert_array_equal(same.fill_null(np.nan).to_numpy(), want)
    lists = df.group_by("symbol", maintain_order=True).agg(pl.col("close").kama(30))
    for s, got in zip(lists["symbol"], lists["close"]):  # each group whole, in one batch
        np.testing.assert_array_equal(got.fill_null(np.nan).to_numpy(), kama.kama(close[sym == s], 30))


def test_readme_recipes_run(pl):
    """The README's pandas and polars recipes, as written."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index("## pandas and polars"):text.index("## API")]
    scope = {}
    for block in re.findall(r"```python\n(.*?)```", section, re.S):
        exec(compile(block, "README.md", "exec"), scope)
    assert isinstance(scope["close_kama"], pd.Series) and scope["out"].shape == (3000, 4)
    np.testing.assert_array_equal(scope["btc"].fill_null(np.nan).to_numpy(),
                                  kama.kama(scope["wide"]["BTC"].to_numpy(), 30))


def test_subclasses_and_other_pandas_objects():
    """A user's DataFrame subclass is a DataFrame (one series per column), not an ndarray."""
    class Prices(pd.DataFrame):
        @property
        def _constructor(self):
            return Prices
    x = 100 + np.cumsum(np.random.default_rng(1).standard_normal((200, 3)), axis=0)
    y = kama.kama(Prices(x), 30)
    assert isinstance(y, pd.DataFrame)
    np.testing.assert_array_equal(y.to_numpy(), kama.kama(x, 30, axis=0))
    np.testing.assert_array_equal(kama.kama(pd.Index(x[:, 0]), 5), kama.kama(x[:, 0], 5))
    for other in (pd.Timestamp("2024-01-01"), pd.DataFrame(x).groupby(0)):
        with pytest.raises(TypeError, match="a pandas Series or a DataFrame, not"):
            kama.kama(other, 5)


@pytest.mark.parametrize("column", [pd.date_range("2024", periods=50), pd.to_timedelta(np.arange(50), "s"),
                                    np.arange(50) + 1j, pd.Categorical(np.arange(50.0))],
                         ids=["datetime", "timedelta", "complex", "category"])
def test_non_numeric_columns_are_refused(column):
    """As for an ndarray of these dtypes (SPEC §5): a TypeError, not epoch numbers."""
    with pytest.raises(TypeError, match="real numbers"):
        kama.kama(pd.DataFrame({"time": column, "close": np.arange(50.0)}), 5)
    with pytest.raises(TypeError, match="real numbers"):
        kama.kama_batch(pd.Series(column), (2, 3, 1))


def test_options_are_checked_before_the_data():
    for kw, match in (({"nan_policy": "omit"}, "Invalid nan_policy"), ({"kernel": "bogus"}, "Unknown kernel")):
        with pytest.raises(ValueError, match=match):
            kama.kama(pd.Series(["a"] * 10), 5, **kw)


def test_batch_column_labels(pl):
    x = 100 + np.cumsum(np.random.default_rng(2).standard_normal((100, 4)), axis=0)
    cols = pd.MultiIndex.from_tuples([("a", "o"), ("a", "c"), ("b", "o"), ("b", "c")], names=["sym", "fld"])
    res = kama.kama_batch(pd.DataFrame(x, columns=cols), (5, 10, 5))
    assert res.columns.names == ["sym", "fld", "period"] and res.columns[1] == ("a", "o", 10)
    np.testing.assert_array_equal(res[("b", "c", 10)].to_numpy(), kama.kama(x[:, 3], 10))
    assert kama.kama_batch(pl.Series(x[:, 0]), periods=[5, 5]).columns == ["kama_5", "kama_5_2"]
    assert kama.kama_batch(pl.DataFrame(), (5, 10, 5)).shape == (0, 0)
    for bad in (pl.Series([{"a": 1}]), pl.datetime_range(pl.datetime(2024, 1, 1), pl.datetime(2024, 1, 2), "1h", eager=True)):
        with pytest.raises(TypeError, match="real numbers"):
            kama.kama(bad, 2)
