"""Exact KAMA on Dask: arrays, Series, wide and long frames chunked any way (``kama[dask]``).

    import kama.dask
    y = kama.dask.kama(darr, 30)                       # dask Array, 1-D or 2-D (series, time)
    s = kama.dask.kama(ddf["close"], 30)               # dask Series partitioned along time
    w = kama.dask.kama(wide_ddf, 30)                   # one series per column
    l = kama.dask.kama(long_ddf, 30, by="symbol", column="close")   # one series per symbol

The result is lazy, like its input. Every option of ``kama.kama`` applies (``fast``, ``slow``,
``compat``, ``unstable_period``, ``nan_policy``; ``kernel`` and ``threads`` where a series is
one chunk); inside the workers kama runs on one thread unless ``threads=`` says otherwise.

Why not ``map_blocks`` or ``map_overlap``: the output of every bar depends on every bar before
it. But KAMA is an affine recurrence, ``y_i = (1 - c_i) y_{i-1} + c_i x_i``, whose ``c_i``
depend on the last ``period`` prices only. So a time chunk is run three ways, each in parallel
across chunks, with two short sequential passes over the chunk boundaries between them:

1. each chunk's tail: its last ``2 period + unstable_period`` bars and its bar count;
2. (sequential) each chunk's context: the bars before it that its first windows need, and how
   many bars came before it;
3. each chunk from its context twice, from ``y = 0`` and from ``y = M`` (a power of two far above
   the prices): its end is ``A y_in + B`` with ``B`` the first end and ``A = (end_M - B) / M``,
   the product of its ``1 - c_i``;
4. (sequential) the carries: ``y_in`` of each chunk from the ends before it;
5. each chunk from its context and its true ``y_in``: its outputs.

A chunk's context starts on a bar a whole number of periods after the series' first bar, so
the volatility blocks of the stream that runs it line up with those of an unchunked run and its
state equals that run's but for ``y`` (checked in tests/test_dask.py). Chunks whose bars all
follow fewer than ``2 period + unstable_period`` bars are run from the series' start, exactly.
The results are ``kama.kama(..., kernel="scalar")``'s up to the rounding of the carries (within
SPEC §2's ``1e-12 * max|x|``) with the same NaN positions; a series that is one chunk along time
runs ``kama.kama`` itself on its block.
"""
from __future__ import annotations

import functools
import math
import re

import numpy as np

import kama as _kama

__all__ = ["kama"]

_STREAM_OPTIONS = ("fast", "slow", "compat", "unstable_period", "nan_policy")
_CALL_OPTIONS = _STREAM_OPTIONS + ("kernel", "threads")
_Y = 9  # the field of y in KamaStream's state (csrc/kama_stream.cpp: stream_reduce_py)


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError:  # pragma: no cover - only without the extra
        raise ImportError('kama.dask needs Dask: pip install "kama[dask]"') from None
    return dask, da


class _Plan:
    """What every task of one call shares (plain data: it travels to the workers)."""

    def __init__(self, period, options):
        unknown = sorted(set(options) - set(_CALL_OPTIONS))
        if unknown:
            raise TypeError(f"kama.dask.kama: unexpected option {unknown[0]!r}")
        self.period = period
        self.stream = {k: options[k] for k in _STREAM_OPTIONS if k in options}
        self.call = dict(options)
        self.call.setdefault("threads", 1)  # the workers' processes are the parallelism
        # Every option checked now, with kama.kama's errors: on two values, which no mode
        # refuses at period 1, then the period itself.
        _kama.kama(np.ones(2), 1, **self.call)
        try:
            _kama.KamaStream(period, **self.stream)
        except (TypeError, ValueError) as exc:
            raise type(exc)(str(exc).replace("KamaStream", "kama", 1)) from None
        self.skip = self.stream.get("nan_policy", "propagate") == "skip"
        self.unstable = int(self.stream.get("unstable_period", 0))
        self.context = 2 * period + self.unstable  # bars of context a chunk may need
        # TA-Lib's KAMA of period 1 is the input itself (its first unstable_period outputs NaN):
        # no recurrence, and a NaN bar leaves the next outputs alone.
        self.copies = self.stream.get("compat", "vectorta") == "talib" and period == 1
        # Every c_i is at least c_min = (2 / (max(fast, slow) + 1))^2 (sc lies between the two
        # constants), so the output before a stretch of `window` bars weighs at most
        # (1 - c_min)^window <= 2^-64 in the output after it: a chunk's end is then its last
        # `window` bars' end from any start, within 2^-64 max|x|.
        widest = max(int(self.stream.get("fast", 2)), int(self.stream.get("slow", 30)))
        c_min = (2.0 / (widest + 1)) ** 2
        if c_min >= 1.0:  # fast = slow = 1: every output is the price
            self.window = 1
        elif c_min > 1e-12:
            self.window = math.ceil(64 * math.log(2) / -math.log1p(-c_min))
        else:
            self.window = None

    def fresh(self):
        return _kama.KamaStream(self.period, **self.stream)


# ---- the per-chunk steps: plain numpy, on {key: 1-D float64 array} ---------------------------


def _last_valid(v, missing, k):
    """The last k non-NaN values of v, without copying more of v than it takes."""
    w = k
    while True:
        w = min(w, v.size)
        tail = v[v.size - w:][~missing[v.size - w:]]
        if tail.size >= k or w == v.size:
            return tail[tail.size - min(k, tail.size):].copy()
        w *= 4


def _tails(rows, plan):
    """Step 1: per key, (length, (bars, their last plan.context values, whether one is NaN) if
    the series started before the chunk, the same if it did not). Bars are what the stream
    takes: the non-NaN values with nan_policy='skip', else every value from the series' first
    non-NaN one on (leading NaNs are skipped)."""
    k = plan.context
    out = {}
    for key, v in rows.items():
        missing = np.isnan(v)
        if plan.skip:
            n = v.size - int(np.count_nonzero(missing))
            last = _last_valid(v, missing, k)
            gap = bool(np.isinf(v).any())  # an infinite price: NaN from there on
            out[key] = (v.size, (n, last, gap), (n, last, gap))
            continue
        first = int(np.argmin(missing)) if v.size and not missing.all() else v.size
        # A NaN or infinite bar: NaN from there on (nan_policy='propagate').
        gap = not bool(np.isfinite(v[first:]).all())
        out[key] = (v.size, (v.size, v[max(0, v.size - k):].copy(), gap or bool(missing[:first].any())),
                    (v.size - first, v[max(first, v.size - k):].copy(), gap))
    return out


def _contexts(tails, plan, where):
    """Step 2: per chunk and key, (bars before the chunk, the last plan.context of them, whether
    a NaN bar came before: every output is NaN from there on). Also raises kama.kama's error
    for a series whose data cannot give an output."""
    k = plan.context
    state = {}  # key: (values so far, bars so far, the last k bars, a NaN bar so far)
    out = []
    for chunk in tails:
        ctx = {}
        for key, (size, started, fresh) in chunk.items():
            length, bars, last, poisoned = state.get(key, (0, 0, np.empty(0), False))
            ctx[key] = (bars, last, poisoned)
            n, t, gap = started if bars > 0 else fresh
            state[key] = (length + size, bars + n, np.concatenate([last, t])[-k:], poisoned or gap)
        out.append(ctx)
    for key, (length, bars, last, _) in state.items():
        _check(key, length, bars, last, plan, where)
    return out


def _label(where, key):
    """Names a series in an error: ("series",) -> series 3; ("column", names) -> column 'c';
    ("by", name) -> symbol='q'."""
    if where[0] == "series":
        return f"series {key}"
    if where[0] == "column":
        return f"column {where[1][key]!r}"
    return f"{where[1]}={key!r}"


def _check(key, length, bars, last, plan, where):
    """kama.kama's data errors (SPEC §5) for a series of `length` values of which `bars` are
    bars, raised by kama.kama itself on a stand-in with the same counts: its bars after enough
    NaN (leading NaNs are no bars) to keep the length, or to reach the period when the length
    is no error. Only series with few bars can fail, and then `last` holds them all."""
    p = plan.period
    if length >= p and bars > p + 1:  # one output needs at most p + 1 bars
        return
    pad = length - bars if length < p else max(0, p - bars)
    try:
        _kama.kama(np.concatenate([np.full(pad, np.nan), last[last.size - bars:]]), p, **plan.call)
    except ValueError as exc:
        text = str(exc)
        if where is not None:  # as kama.kama's "kama (series 3): ..." for many series
            text = text.replace("kama:", f"kama ({_label(where, key)}):", 1)
        raise ValueError(text) from None


def _start(bars, last, plan):
    """A stream at the chunk's first bar, and whether it is the unchunked run's state exactly
    (bars all in the context) or that state but for y."""
    s = plan.fresh()
    if bars <= plan.context:
        s.update_many(last[last.size - bars:])
        return s, True
    p = plan.period
    aligned = (bars - (p + 1 + plan.unstable)) // p * p  # a block boundary, p + 1 + N bars back
    s.update_many(last[last.size - (bars - aligned):])
    return s, False


def _with_y(s, y):
    state = list(s.__reduce__()[2])
    state[_Y] = float(y)
    s.__setstate__(tuple(state))
    return s


def _y(s):
    return s.__reduce__()[2][_Y]


def _magnitude(v):
    """max |v| over the non-NaN values (0 for none), without a temporary of v's size."""
    return max(-float(np.fmin.reduce(v, initial=0.0)), float(np.fmax.reduce(v, initial=0.0)))


def _chunk_bars(v, started, plan, k):
    """The last k of the chunk's bars, their count, and whether one is NaN (with
    nan_policy='propagate') or infinite."""
    missing = np.isnan(v)
    if plan.skip:
        return _last_valid(v, missing, k), v.size - int(np.count_nonzero(missing)), bool(np.isinf(v).any())
    first = 0 if started else (int(np.argmin(missing)) if v.size and not missing.all() else v.size)
    return v[max(first, v.size - k):], v.size - first, not bool(np.isfinite(v[first:]).all())


def _ends(rows, ctx, plan):
    """Step 3: per key, ('y', end) when the chunk ran from the exact state or from its own last
    plan.window bars (the output before them no longer shows; NaN after a NaN bar with
    nan_policy='propagate'), else ('ab', A, B): end = A * (output before the chunk) + B."""
    out = {}
    scratch = np.empty(max((v.size for v in rows.values()), default=0))  # outputs not kept
    w, k = plan.window, plan.context
    for key, v in rows.items():
        bars, last, poisoned = ctx[key]
        if plan.copies:  # nothing carries over
            out[key] = ("y", 0.0)
            continue
        if poisoned and bars > k:  # NaN for good (see _outputs)
            out[key] = ("y", float("nan"))
            continue
        if w is not None and v.size >= w + k:
            tail, n, gap = _chunk_bars(v, bars > 0, plan, w + k)
            if n >= w + k and bars + n - w > k:  # the window starts past the warm-up
                if poisoned or gap:  # a NaN bar before the window's end: NaN there
                    out[key] = ("y", float("nan"))
                    continue
                s, _ = _start(bars + n - w, tail[: tail.size - w], plan)
                _with_y(s, 0.0).update_many(tail[tail.size - w:], out=scratch[:w])
                out[key] = ("y", _y(s))
                continue
        s, exact = _start(bars, last, plan)
        sink = scratch[: v.size]
        if exact:
            s.update_many(v, out=sink)
            out[key] = ("y", _y(s))
            continue
        scale = max(1.0, _magnitude(last), _magnitude(v))
        m = 2.0 ** min(1023, math.frexp(scale)[1] + 40) if math.isfinite(scale) else 2.0**1023
        high = s.copy()
        _with_y(s, 0.0).update_many(v, out=sink)
        _with_y(high, m).update_many(v, out=sink)
        b = _y(s)
        out[key] = ("ab", (_y(high) - b) / m, b)
    return out


def _carries(ends):
    """Step 4: per chunk and key, the output before the chunk (None where the chunk starts from
    the exact state)."""
    y = {}
    out = []
    for chunk in ends:
        yin = {}
        for key, end in chunk.items():
            if end[0] == "y":
                yin[key] = y.get(key)
                y[key] = end[1]
            else:
                yin[key] = y[key]
                y[key] = end[1] * y[key] + end[2]
        out.append(yin)
    return out


def _outputs(rows, ctx, yin, plan, into=None):
    """Step 5: per key, the chunk's outputs (written into into[key] when given)."""
    out = {}
    for key, v in rows.items():
        bars, last, poisoned = ctx[key]
        if plan.copies:
            out[key] = _copied(v, bars, plan, None if into is None else into[key])
            continue
        if poisoned and bars > plan.context:
            # A NaN bar (nan_policy='propagate') is in the windows of the steps up to p bars
            # after it, and from the first such step on every output is NaN; with more than
            # 2p bars before the chunk that step came before it. (Not earlier: VectorTA's seed,
            # the price itself, can follow a NaN bar in its warm-up; the exact state has it.)
            # A stream fed the NaN bars first would take them for leading NaNs.
            out[key] = np.full(v.size, np.nan) if into is None else into[key]
            out[key][:] = np.nan
            continue
        s, exact = _start(bars, last, plan)
        if not exact:
            _with_y(s, yin[key])
        out[key] = s.update_many(v, out=None if into is None else into[key])
    return out


def _copied(v, bars, plan, into):
    """TA-Lib's period 1: the values, NaN for the bars among the first unstable_period."""
    out = np.array(v, dtype=np.float64) if into is None else into
    if into is not None:
        out[:] = v
    muted = plan.unstable - bars
    if muted > 0:
        positions = np.flatnonzero(~np.isnan(v)) if plan.skip or bars == 0 else None
        if plan.skip:
            out[positions[:muted]] = np.nan
        else:
            first = int(positions[0]) if bars == 0 and positions.size else (0 if bars else v.size)
            out[first:first + muted] = np.nan
    return out


# ---- the graph -------------------------------------------------------------------------------


def _tails_of(part, rows, plan):
    return _tails(rows(part), plan)


def _ends_of(part, rows, ctx, plan):
    return _ends(rows(part), ctx, plan)


def _outputs_of(part, rows, ctx, yin, plan, build):
    return build(_outputs(rows(part), ctx, yin, plan), part)


def _block_outputs(block, rows, ctx, yin, plan, _build):
    """_outputs_of for an array block: the outputs go straight into the result's rows."""
    result = np.empty(block.shape)
    by_key = rows(block)
    _outputs(by_key, ctx, yin, plan, dict(zip(by_key, result)))
    return result


def _chain(dask, parts, rows, build, plan, where, outputs=_outputs_of):
    """Steps 1-5 over `parts`, the delayed chunks (blocks or partitions) of consecutive times;
    rows(part) gives a chunk's {key: values}, build(outputs, part) its result. Each step takes
    the chunk itself, so that it runs where the chunk is (no {key: values} crosses workers)."""
    delayed = dask.delayed
    tails = [delayed(_tails_of, pure=True)(part, rows, plan) for part in parts]
    ctx = delayed(_contexts, nout=len(parts), pure=True)(tails, plan, where)
    ends = [delayed(_ends_of, pure=True)(part, rows, ctx[j], plan) for j, part in enumerate(parts)]
    yin = delayed(_carries, nout=len(parts), pure=True)(ends)
    return [delayed(outputs, pure=True)(part, rows, ctx[j], yin[j], plan, build)
            for j, part in enumerate(parts)]


# ---- dask arrays -------------------------------------------------------------------------------


def _rows(block, offset):
    return {offset + r: block[r] for r in range(block.shape[0])}


def _whole(block, period, call, one_d, block_info=None):
    """A block that holds its series whole along time: kama.kama itself, its errors naming the
    series by its row in the whole array."""
    if one_d:
        return _kama.kama(block[0], period, **call)[None, :]
    try:
        return _kama.kama(block, period, **call)
    except ValueError as exc:
        offset = block_info[0]["array-location"][0][0] if block_info else 0
        text = re.sub(r"^kama \(series (\d+)\)", lambda m: f"kama (series {int(m.group(1)) + offset})", str(exc))
        raise ValueError(text) from None


def _array(arr, period, axis, plan):
    dask, da = _dask()
    if arr.ndim not in (1, 2):
        raise ValueError(f"kama.dask.kama: data must be 1-D or 2-D, got {arr.ndim}-D")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"kama.dask.kama: axis {axis} is out of bounds for {arr.ndim}-D data")
    axis %= arr.ndim
    if arr.ndim == 1:
        axis = 1  # the one series runs along its only axis
    kind = np.dtype(arr.dtype).kind
    if kind not in "biufO":
        raise TypeError(f"kama.dask.kama: data must be real numbers, got dtype {arr.dtype}")
    one_d = arr.ndim == 1
    a = arr[None, :] if one_d else (arr.T if axis == 0 else arr)  # series along rows
    a = a.astype(np.float64)
    if a.numblocks[1] == 1:  # every series whole in its block
        out = a.map_blocks(_whole, period, plan.call, one_d, dtype=np.float64, meta=np.empty((0, 0)))
    else:
        blocks = a.to_delayed()
        offsets = np.concatenate([[0], np.cumsum(a.chunks[0])]).astype(int)
        grid = []
        for i in range(a.numblocks[0]):
            off = int(offsets[i])
            outs = _chain(dask, list(blocks[i]), functools.partial(_rows, offset=off), None, plan,
                          None if one_d else ("series",), outputs=_block_outputs)
            grid.append([da.from_delayed(o, shape=(a.chunks[0][i], cols), dtype=np.float64, meta=np.empty((0, 0)))
                         for o, cols in zip(outs, a.chunks[1])])
        out = da.block(grid)
    if one_d:
        return out[0]
    return out.T if axis == 0 else out


# ---- dask dataframes ---------------------------------------------------------------------------


def _float(series, what):
    """A pandas Series' values as float64 (missing values NaN); text is SPEC §5's TypeError,
    as in kama.kama, even when it reads as a number."""
    import pandas as pd

    if pd.api.types.is_string_dtype(series):  # infers the elements of an object column
        raise TypeError(f"kama.dask.kama: {what} must be real numbers, got dtype {series.dtype}")
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"kama.dask.kama: {what} must be real numbers ({exc})") from None


def _series_rows(part):
    return {0: _float(part, "data")}


def _series_out(out, part):
    import pandas as pd

    return pd.Series(out[0], index=part.index, name=part.name)


def _wide_rows(part):
    return {k: _float(part.iloc[:, k], f"column {part.columns[k]!r}") for k in range(part.shape[1])}


def _wide_out(out, part):
    import pandas as pd

    frame = pd.DataFrame({k: out[k] for k in range(part.shape[1])}, index=part.index)
    frame.columns = part.columns
    return frame


def _order(part):
    """Row positions of a partition in index (time) order."""
    index = part.index
    if index.is_monotonic_increasing:
        return np.arange(len(part))
    return np.argsort(index.to_numpy(), kind="stable")


def _long_rows(part, by, column):
    import pandas as pd

    order = _order(part)
    codes, uniques = pd.factorize(part[by].to_numpy()[order], use_na_sentinel=True)
    values = _float(part[column], f"column {column!r}")[order]
    at = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[at], np.arange(len(uniques) + 1))
    return {uniques[k]: values[at[bounds[k]:bounds[k + 1]]] for k in range(len(uniques))}


def _long_out(out, part, by, column):
    import pandas as pd

    order = _order(part)
    codes, uniques = pd.factorize(part[by].to_numpy()[order], use_na_sentinel=True)
    at = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[at], np.arange(len(uniques) + 1))
    result = np.full(len(part), np.nan)
    for k, key in enumerate(uniques):
        result[order[at[bounds[k]:bounds[k + 1]]]] = out[key]
    return pd.Series(result, index=part.index, name=column)


def _frame(obj, period, plan, by, column):
    dask, _ = _dask()
    import dask.dataframe as dd
    import pandas as pd

    meta = obj._meta
    if isinstance(meta, pd.Series):
        if by is not None or column is not None:
            raise TypeError("kama.dask.kama: by= and column= are for a long-format DataFrame")
        rows, build, where, out_meta = _series_rows, _series_out, None, pd.Series(
            np.empty(0), index=meta.index, name=meta.name)
        whole = obj.npartitions == 1
    elif by is None and column is None:
        rows, build = _wide_rows, _wide_out
        where = ("column", list(meta.columns))
        out_meta = pd.DataFrame({c: np.empty(0) for c in range(meta.shape[1])}, index=meta.index)
        out_meta.columns = meta.columns
        whole = obj.npartitions == 1
    elif by is not None and column is not None:
        for name in (by, column):
            if name not in meta.columns:
                raise KeyError(f"kama.dask.kama: no column {name!r}; columns are {list(meta.columns)}")
        rows = functools.partial(_long_rows, by=by, column=column)
        build = functools.partial(_long_out, by=by, column=column)
        where, out_meta, whole = ("by", by), pd.Series(np.empty(0), index=meta.index, name=column), False
    else:
        raise TypeError("kama.dask.kama: a long-format frame needs both by= and column=")
    if whole:  # one partition: kama.kama itself
        call = plan.call
        return obj.map_partitions(lambda part: _kama.kama(part, period, **call), meta=out_meta)
    built = _chain(dask, obj.to_delayed(), rows, build, plan, where)
    return dd.from_delayed(built, meta=out_meta, divisions=obj.divisions, verify_meta=False)


# ---- the entry point ---------------------------------------------------------------------------


def kama(data, period=30, *, axis=-1, by=None, column=None, **options):
    """KAMA of a dask Array (1-D, or 2-D with one series per row along `axis`), a dask Series,
    a dask DataFrame (one series per column) or, with by= and column=, a long-format dask
    DataFrame (one series per value of `by`, in index order, groups spanning partitions).
    Exact for any chunking; lazy like its input. See the module's docstring."""
    dask, da = _dask()
    plan = _Plan(period, options)
    if isinstance(data, da.Array):
        if by is not None or column is not None:
            raise TypeError("kama.dask.kama: by= and column= are for a long-format DataFrame")
        return _array(data, period, axis, plan)
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover
        dd = None
    if dd is not None and isinstance(data, (dd.Series, dd.DataFrame)):
        return _frame(data, period, plan, by, column)
    raise TypeError(f"kama.dask.kama: data must be a dask Array, Series or DataFrame, not {type(data).__name__}"
                    " (kama.kama takes numpy, pandas and polars data)")
