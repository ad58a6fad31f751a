"""kama.dask (issue 12): exact KAMA for any chunking, on a real distributed.LocalCluster with two
worker processes, against kama.kama on the computed data (SPEC §2: within 1e-12 * max|x|, NaN
for NaN). The chunk steps are also checked on their own (no Dask) against the exact reference
and kama.kama, over random cuts, modes and gaps."""
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import assert_close
from reference import kama_exact

import kama

pytestmark = pytest.mark.slow  # a LocalCluster of worker processes for the module (~20 s)

dask = pytest.importorskip("dask", reason="kama[dask] is not installed")
da = pytest.importorskip("dask.array", reason="kama[dask] is not installed")
dd = pytest.importorskip("dask.dataframe", reason="dask.dataframe (kama[dask]) is not installed")
distributed = pytest.importorskip("distributed", reason="distributed (kama[test]) is not installed")
pd = pytest.importorskip("pandas")
kd = pytest.importorskip("kama.dask")

MODES = [{}, {"compat": "talib"}, {"compat": "tulipy"}, {"compat": "pandas_ta"},
         {"nan_policy": "skip"}, {"compat": "pandas_ta", "unstable_period": 40, "nan_policy": "skip"},
         {"compat": "talib", "unstable_period": 7, "fast": 3, "slow": 50},
         # a short memory (slow=3: an output no longer shows 155 bars on), so that long chunks
         # take their ends from their own last bars
         {"fast": 1, "slow": 3}, {"compat": "tulipy", "slow": 2, "nan_policy": "skip", "unstable_period": 3}]


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=40) as cluster, distributed.Client(cluster) as c:
        yield c


def walk(shape, seed):
    return 100 + np.cumsum(np.random.default_rng(seed).standard_normal(shape), axis=-1)


def gappy(shape, seed):
    """A panel with late starts, holes and a NaN stretch in some series."""
    x = walk(shape, seed)
    rng = np.random.default_rng(seed + 1)
    x2 = np.atleast_2d(x)
    for r in range(x2.shape[0]):
        if rng.random() < 0.5:
            x2[r, : rng.integers(0, x2.shape[1] // 2)] = np.nan
        x2[r, rng.integers(0, x2.shape[1], size=3)] = np.nan
    x2[0, 100:160] = np.nan
    return x


# ---- the chunk steps without Dask ------------------------------------------------------------


def run_steps(x, period, cuts, **options):
    plan = kd._Plan(period, options)
    chunks = [{0: x[a:b]} for a, b in zip(cuts[:-1], cuts[1:])]
    ctx = kd._contexts([kd._tails(c, plan) for c in chunks], plan, None)
    yin = kd._carries([kd._ends(c, k, plan) for c, k in zip(chunks, ctx)])
    return np.concatenate([kd._outputs(c, k, y, plan)[0] for c, k, y in zip(chunks, ctx, yin)])


def test_a_context_started_on_a_block_boundary_is_the_unchunked_state():
    """What the scheme rests on: a stream fed the bars from a whole number of periods after the
    series' first bar (and at least period + 1 + unstable_period of them) holds the unchunked
    stream's state bit for bit but for y, field kd._Y of the pickled state."""
    x = walk(3000, 1)
    x[:17] = np.nan
    for mode in MODES:
        for p in (1, 2, 9, 30):
            bars = 1500
            whole = kama.KamaStream(p, **{k: v for k, v in mode.items()})
            whole.update_many(x[: 17 + bars])
            plan = kd._Plan(p, mode)
            s, exact = kd._start(bars, x[17 + bars - plan.context : 17 + bars], plan)
            assert not exact
            mine, theirs = s.__reduce__()[2], whole.__reduce__()[2]
            assert [k for k in range(len(mine)) if mine[k] != theirs[k]] in ([], [kd._Y])
            kd._with_y(s, theirs[kd._Y])
            np.testing.assert_array_equal(s.update_many(x[17 + bars :]), whole.update_many(x[17 + bars :]))


@settings(deadline=None, max_examples=300)
@given(n=st.integers(0, 700), p=st.integers(1, 45), seed=st.integers(0, 2**32 - 1),
       cuts=st.lists(st.floats(0, 1), max_size=9), mode=st.sampled_from(MODES),
       gaps=st.sampled_from(["none", "lead", "holes", "stretch"]))
def test_steps_match_the_unchunked_call(n, p, seed, cuts, mode, gaps):
    rng = np.random.default_rng(seed)
    x = 100 + np.cumsum(rng.standard_normal(n))
    if n and gaps == "lead":
        x[: rng.integers(0, n)] = np.nan
    elif n and gaps == "holes":
        x[rng.integers(0, n, size=4)] = np.nan
    elif n and gaps == "stretch":
        a = rng.integers(0, n)
        x[a : a + 3 * p] = np.nan
    bounds = sorted({0, n, *(int(c * n) for c in cuts)}) if n else [0, 0]  # one empty chunk
    try:
        want = kama.kama(x, p, kernel="scalar", **mode)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc).split(": ", 1)[1].replace("(", r"\(").replace(")", r"\)")):
            run_steps(x, p, bounds, **mode)
        return
    assert_close(run_steps(x, p, bounds, **mode), want, np.nan_to_num(x))


@pytest.mark.parametrize("mode", MODES)
def test_steps_after_nan_bars(mode):
    """Found by the search above: a NaN stretch filling the context before a chunk (a stream
    fed it would take it for leading NaNs); VectorTA's seed, the price itself, after a NaN bar
    in its warm-up; TA-Lib's period 1, a copy, which a NaN bar does not end."""
    x = walk(24, 0)
    x[6:12] = np.nan
    want = kama.kama(x, 2, kernel="scalar", **mode)
    assert_close(run_steps(x, 2, [0, 12, 24], **mode), want, np.nan_to_num(x))
    x = walk(35, 1)
    x[:8] = np.nan
    x[12] = np.nan
    for p in (23, 5):
        try:
            want = kama.kama(x, p, kernel="scalar", **mode)
        except ValueError:
            continue
        assert_close(run_steps(x, p, [0, 26, 35], **mode), want, np.nan_to_num(x))
    x = walk(400, 2)
    x[[0, 1, 50, 51, 52, 200]] = np.nan
    for unstable in (0, 3, 60):
        copy = {**mode, "compat": "talib", "unstable_period": unstable}
        assert_close(run_steps(x, 1, [0, 1, 2, 40, 51, 120, 400], **copy), kama.kama(x, 1, kernel="scalar", **copy),
                     np.nan_to_num(x))


def test_steps_against_the_exact_reference():
    x = walk(2500, 2)
    x[700] = 1e9  # a spike, which must not leave a lasting error
    cuts = [0, 5, 31, 32, 600, 699, 701, 1700, 2500]
    for mode in ({}, {"compat": "talib"}, {"compat": "pandas_ta"}):
        assert_close(run_steps(x, 30, cuts, **mode), kama_exact(x, 30, **mode), x)


def test_carries_stay_exact_over_many_short_chunks():
    x = walk(20_000, 3)
    cuts = list(range(0, 20_000, 7)) + [20_000]  # chunks far shorter than the period
    assert_close(run_steps(x, 30, cuts), kama.kama(x, 30, kernel="scalar"), x)


def test_plan_checks_options_eagerly_and_defaults_to_one_thread():
    assert kd._Plan(30, {}).call["threads"] == 1
    assert kd._Plan(30, {"threads": 2}).call["threads"] == 2
    for bad, error in (({"compat": "nope"}, ValueError), ({"nan_policy": "x"}, ValueError),
                       ({"kernel": "nope"}, ValueError), ({"fast": 0}, ValueError),
                       ({"threads": 0}, ValueError), ({"typo": 1}, TypeError)):
        with pytest.raises(error):
            kd.kama(da.ones(10, chunks=5), 3, **bad)
    with pytest.raises(ValueError, match="Invalid period"):
        kd.kama(da.ones(10, chunks=5), 0)
    pickle.loads(pickle.dumps(kd._Plan(30, {"compat": "talib"})))


# ---- on the cluster ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunks", [
    ((3, 5), (1, 29, 30, 31, 400, 5, 1504)),  # time chunks of irregular sizes, some under the period
    ((8,), (2000,)),                          # series chunks only: kama.kama on each block
    ((1, 1, 6), (700, 1300)),                 # both
])
@pytest.mark.parametrize("mode", MODES)
def test_array_any_chunking(client, chunks, mode):
    x = gappy((8, 2000), 4)
    got = kd.kama(da.from_array(x, chunks=chunks), 30, **mode).compute()
    assert_close(got, kama.kama(x, 30, **mode), np.nan_to_num(x))


def test_array_1d_and_axis_0(client):
    x = walk(5000, 5)
    assert_close(kd.kama(da.from_array(x, chunks=333), 14).compute(), kama.kama(x, 14), x)
    panel = walk((6, 3000), 6).T  # time down the rows
    got = kd.kama(da.from_array(panel, chunks=(250, 2)), 14, axis=0).compute()
    assert_close(got, kama.kama(panel, 14, axis=0), panel)


def test_array_errors(client):
    x = walk((3, 500), 7)
    x[1] = np.nan
    with pytest.raises(ValueError, match=r"kama \(series 1\): All values are NaN"):
        kd.kama(da.from_array(x, chunks=(1, 100)), 30).compute()
    with pytest.raises(ValueError, match="Not enough valid data"):
        kd.kama(da.from_array(np.r_[np.full(400, np.nan), np.arange(20.0)], chunks=50), 30).compute()
    with pytest.raises(TypeError, match="real numbers"):
        kd.kama(da.from_array(np.array(["a", "b"]), chunks=1), 1)
    with pytest.raises(TypeError, match="dask Array"):
        kd.kama(np.ones(10), 3)


def test_talib_mode_never_raises_on_data(client):
    x = np.r_[np.full(45, np.nan), np.arange(10.0)]
    got = kd.kama(da.from_array(x, chunks=7), 30, compat="talib").compute()
    assert_close(got, kama.kama(x, 30, compat="talib"), np.nan_to_num(x))


def frame(n=3000, cols="abcde", seed=8):
    idx = pd.date_range("2021-01-01", periods=n, freq="min")
    return pd.DataFrame(gappy((len(cols), n), seed).T, index=idx, columns=list(cols))


@pytest.mark.parametrize("mode", MODES)
def test_series_partitioned_along_time(client, mode):
    s = frame()["a"].rename("close")
    got = kd.kama(dd.from_pandas(s, npartitions=7), 30, **mode).compute()
    assert isinstance(got, pd.Series) and got.name == "close" and got.index.equals(s.index)
    assert_close(got.to_numpy(), kama.kama(s.to_numpy(), 30, **mode), np.nan_to_num(s.to_numpy()))


def test_series_in_one_partition(client):
    s = frame()["b"]
    got = kd.kama(dd.from_pandas(s, npartitions=1), 30).compute()
    assert_close(got.to_numpy(), kama.kama(s.to_numpy(), 30), np.nan_to_num(s.to_numpy()))


@pytest.mark.parametrize("mode", MODES[:4])
def test_wide_frame_one_series_per_column(client, mode):
    w = frame()
    got = kd.kama(dd.from_pandas(w, npartitions=5), 30, **mode).compute()
    assert list(got.columns) == list(w.columns) and got.index.equals(w.index)
    assert_close(got.to_numpy(), kama.kama(w, 30, **mode).to_numpy(), np.nan_to_num(w.to_numpy()))


def long_frame():
    w = frame(n=2000, cols="pqrstu")
    w.iloc[:900, 4] = np.nan  # a symbol listed later: its rows start in a later partition
    long = w.stack(future_stack=True).rename("close").reset_index(level=1).rename(columns={"level_1": "symbol"})
    return long.iloc[: len(long) - 5]  # ragged ends


@pytest.mark.parametrize("mode", MODES)
def test_long_format_groups_spanning_partitions(client, mode):
    long = long_frame()
    got = kd.kama(dd.from_pandas(long, npartitions=9), 30, by="symbol", column="close", **mode).compute()
    assert isinstance(got, pd.Series) and got.index.equals(long.index) and got.name == "close"
    want = long.groupby("symbol")["close"].transform(lambda v: kama.kama(v.to_numpy(), 30, **mode))
    assert_close(got.to_numpy(), want.to_numpy(), np.nan_to_num(long["close"].to_numpy()))


def test_long_format_rows_out_of_index_order_within_a_partition(client):
    """Each partition is taken in index order; partitions in their own order."""
    long = long_frame().assign(row=lambda f: np.arange(len(f)))
    cut = np.linspace(0, len(long), 5).astype(int)
    parts = [long.iloc[a:b].sample(frac=1.0, random_state=0) for a, b in zip(cut[:-1], cut[1:])]
    shuffled = pd.concat(parts)
    ddf = dd.from_delayed([dask.delayed(part) for part in parts], meta=long.iloc[:0])
    got = kd.kama(ddf, 30, by="symbol", column="close").compute()
    want = long.groupby("symbol")["close"].transform(lambda v: kama.kama(v.to_numpy(), 30)).to_numpy()
    assert_close(got.to_numpy(), want[shuffled["row"].to_numpy()], np.nan_to_num(long["close"].to_numpy()))


def test_frame_errors_name_the_column_or_symbol(client):
    w = frame()
    w["c"] = np.nan
    with pytest.raises(ValueError, match=r"kama \(column 'c'\): All values are NaN"):
        kd.kama(dd.from_pandas(w, npartitions=4), 30).compute()
    long = long_frame()
    long.loc[long["symbol"] == "q", "close"] = np.nan
    with pytest.raises(ValueError, match=r"kama \(symbol='q'\): All values are NaN"):
        kd.kama(dd.from_pandas(long, npartitions=4), 30, by="symbol", column="close").compute()


def test_frame_argument_errors(client):
    long = dd.from_pandas(long_frame(), npartitions=3)
    with pytest.raises(TypeError, match="both by= and column="):
        kd.kama(long, 30, by="symbol")
    with pytest.raises(KeyError, match="no column 'price'"):
        kd.kama(long, 30, by="symbol", column="price")
    with pytest.raises(TypeError, match="long-format"):
        kd.kama(da.ones(10, chunks=5), 3, by="symbol", column="close")


# ---- found by review -----------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{"fast": 30, "slow": 2}, {"slow": 1}, {"fast": 1, "slow": 1}])
def test_constants_the_window_rests_on(options):
    """A chunk's end from its own last bars needs the smallest c, that of max(fast, slow)."""
    x = walk(400, 9)
    got = kd.kama(da.from_array(x, chunks=(37, 200, 163)), 10, **options).compute(scheduler="sync")
    assert_close(got, kama.kama(x, 10, **options), x)


@pytest.mark.parametrize("mode", [{}, {"nan_policy": "skip"}, {"compat": "talib"}, {"compat": "pandas_ta"}])
def test_an_infinite_price_ends_the_outputs_as_in_kama(mode):
    y = walk(1000, 10)
    y[5] = np.inf
    got = kd.kama(da.from_array(y, chunks=500), 10, slow=3, **mode).compute(scheduler="sync")
    np.testing.assert_array_equal(np.isnan(got), np.isnan(kama.kama(y, 10, slow=3, **mode)))


def test_prices_near_the_largest_double():
    z = walk(60, 11) * 1e305
    assert_close(kd.kama(da.from_array(z, chunks=7), 10).compute(scheduler="sync"), kama.kama(z, 10), z)


def test_errors_read_as_kama_kama_s():
    x = walk((4, 50), 12)
    x[3] = np.nan
    for arr in (da.from_array(x, chunks=(2, 50)), da.from_array(x, chunks=(2, 7))):
        with pytest.raises(ValueError, match=r"^kama \(series 3\): All values are NaN"):
            arr_result = kd.kama(arr, 10)
            arr_result.compute(scheduler="sync")
    with pytest.raises(ValueError, match=r"^kama \(series 3\)"):
        kd.kama(da.from_array(x.T, chunks=(50, 2)), 10, axis=0).compute(scheduler="sync")
    with pytest.raises(ValueError, match=r"^kama: Invalid period: period = 10, data length = 5"):
        kd.kama(da.from_array(np.arange(5.0), chunks=5), 10).compute(scheduler="sync")
    with pytest.raises(ValueError, match=r"^kama: Invalid compat"):
        kd.kama(da.ones(10, chunks=5), 3, compat="x")
    with pytest.raises(ValueError, match=r"^kama: Invalid period"):
        kd.kama(da.ones(10, chunks=5), 0)
    for text in (["a"] * 50, ["1.5"] * 50):
        with pytest.raises(TypeError, match="real numbers"):
            kd.kama(dd.from_pandas(pd.Series(text), npartitions=3), 10).compute(scheduler="sync")
    odd = pd.DataFrame({"s{0}": ["a"] * 30 + ["b"] * 30, "close": np.r_[np.arange(30.0), np.full(30, np.nan)]})
    with pytest.raises(ValueError, match=r"kama \(s\{0\}='b'\)"):
        kd.kama(dd.from_pandas(odd, npartitions=2), 10, by="s{0}", column="close").compute(scheduler="sync")


def test_axis_minus_two_and_object_dtype():
    x = walk((3, 50), 13)
    got = kd.kama(da.from_array(x.T, chunks=(20, 3)), 10, axis=-2).compute(scheduler="sync")
    assert_close(got, kama.kama(x.T, 10, axis=0), x)
    got = kd.kama(da.from_array(x.astype(object), chunks=(3, 20)), 10).compute(scheduler="sync")
    assert_close(got, kama.kama(x, 10), x)
