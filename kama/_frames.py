"""pandas and polars in and out (SPEC §3). The C functions hand a pandas or polars object here
(an ndarray never comes here); this module converts it to float64 ndarrays, calls the same C
function with them, and wraps the result like the input. Neither library is imported until
such an object arrives.

- pandas: Series -> Series (same index and name); DataFrame -> DataFrame, one series per column
  (time down the rows, whatever `axis` says). kama_batch: Series -> DataFrame, one column per
  period; DataFrame -> DataFrame with (column, period) columns.
- polars: the same with polars Series and DataFrames; missing outputs (the warm-up, NaN bars)
  are null, and null inputs are missing values.
"""
from __future__ import annotations

import re

import numpy as np

from . import _kama

_SERIES_NO = re.compile(r"^(kama|kama_batch) \(series (\d+)\)")


def _library(obj):
    """'pandas' or 'polars' for an object of theirs (or of a subclass of one of theirs)."""
    for cls in type(obj).__mro__:
        package = getattr(cls, "__module__", "").split(".", 1)[0]
        if package in ("pandas", "polars"):
            return package
    return None


def _as_float(to_numpy, what):
    """Runs the library's conversion; a value that is not a number is SPEC §5's TypeError."""
    try:
        return to_numpy()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what}: data must be real numbers ({exc})") from None
    except Exception as exc:  # polars raises its own exception classes for a bad cast
        if _library(exc) == "polars":
            raise TypeError(f"{what}: data must be real numbers ({exc})") from None
        raise


def _column_errors(fn, columns):
    """Names the column in an error about one series of a frame ('kama (column "BTC")')."""
    try:
        return fn()
    except ValueError as exc:
        m = _SERIES_NO.match(str(exc))
        if not m:
            raise
        label = columns[int(m.group(2))]
        raise ValueError(f"{m.group(1)} (column {label!r})" + str(exc)[m.end():]) from None


def _unique(names):
    """Column names made unique in order (a sweep may repeat a period): 'kama_5', 'kama_5_2'."""
    seen, out = {}, []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


# ---- pandas -----------------------------------------------------------------------------------

def _pandas_check(dtypes, what):
    """Real numbers only (SPEC §5): as numpy.asarray of an ndarray would be refused, dates,
    durations, complex and categories are a TypeError, not epoch numbers; object columns go
    through the conversion, which refuses what is not a number."""
    from pandas.api import types

    for dtype in dtypes:
        ok = types.is_object_dtype(dtype) or (
            (types.is_numeric_dtype(dtype) or types.is_bool_dtype(dtype)) and not types.is_complex_dtype(dtype)
            and not isinstance(dtype, types.CategoricalDtype) and not types.is_timedelta64_dtype(dtype))
        if not ok:
            raise TypeError(f"{what}: data must be real numbers, got a column of dtype {dtype}")


def _pandas_values(obj, what):
    import pandas as pd

    _pandas_check([obj.dtype] if isinstance(obj, pd.Series) else list(obj.dtypes), what)
    return _as_float(lambda: obj.to_numpy(dtype=np.float64, na_value=np.nan), what)


def _pandas_other(data, what):
    """A pandas object that is neither a Series nor a DataFrame: an Index reads as an array."""
    import pandas as pd

    if isinstance(data, pd.Index):
        _pandas_check([data.dtype], what)
        return np.asarray(data)
    raise TypeError(f"{what}: data must be a 1-D sequence of numbers, a pandas Series or a DataFrame, "
                    f"not {type(data).__name__}")


def _pandas_kama(data, args, kwargs):
    import pandas as pd

    if isinstance(data, pd.Series):
        y = _kama.kama(_pandas_values(data, "kama"), *args, **kwargs)
        return pd.Series(y, index=data.index, name=data.name, copy=False)
    if isinstance(data, pd.DataFrame):
        values = _pandas_values(data, "kama")
        kwargs["axis"] = 0  # one series per column
        y = _column_errors(lambda: _kama.kama(values, *args, **kwargs), data.columns)
        return pd.DataFrame(y, index=data.index, columns=data.columns, copy=False)
    return _kama.kama(_pandas_other(data, "kama"), *args, **kwargs)


def _pandas_batch(data, args, kwargs):
    import pandas as pd

    if isinstance(data, pd.Series):
        res = _kama.kama_batch(_pandas_values(data, "kama_batch"), *args, **kwargs)
        periods = pd.Index(res["periods"], name="period")
        return pd.DataFrame(res["values"].T, index=data.index, columns=periods, copy=False)
    if isinstance(data, pd.DataFrame):
        values = np.ascontiguousarray(_pandas_values(data, "kama_batch").T)  # one series per row
        res = _column_errors(lambda: _kama.kama_batch(values, *args, **kwargs), data.columns)
        series, rows, n = res["values"].shape
        multi = isinstance(data.columns, pd.MultiIndex)  # (sym, field) columns: (sym, field, period)
        columns = pd.MultiIndex.from_tuples(
            [(*c, p) if multi else (c, p) for c in data.columns for p in res["periods"].tolist()],
            names=[*(data.columns.names if multi else [data.columns.name]), "period"])
        return pd.DataFrame(res["values"].reshape(series * rows, n).T, index=data.index, columns=columns,
                            copy=False)
    return _kama.kama_batch(_pandas_other(data, "kama_batch"), *args, **kwargs)


# ---- polars -----------------------------------------------------------------------------------

def _polars_values(obj, what):
    import polars as pl

    if not (obj.dtype.is_numeric() or obj.dtype == pl.Boolean):
        raise TypeError(f"{what}: data must be real numbers, got a column of dtype {obj.dtype}")
    return _as_float(lambda: obj.cast(pl.Float64).to_numpy(), what)


def _polars_kama(data, args, kwargs):
    import polars as pl

    if isinstance(data, pl.Series):
        y = _kama.kama(_polars_values(data, "kama"), *args, **kwargs)
        return pl.Series(data.name, y, nan_to_null=True)
    if isinstance(data, pl.DataFrame):
        columns = data.columns
        values = np.column_stack([_polars_values(data[c], "kama") for c in columns]) if columns else \
            np.empty((data.height, 0))
        kwargs["axis"] = 0
        y = _column_errors(lambda: _kama.kama(values, *args, **kwargs), columns)
        return pl.DataFrame([pl.Series(c, y[:, j], nan_to_null=True) for j, c in enumerate(columns)])
    raise TypeError(f"kama: a polars {type(data).__name__} is not a Series or DataFrame "
                    "(for expressions and lazy frames, import kama.polars and use pl.col(...).kama(...))")


def _polars_batch(data, args, kwargs):
    import polars as pl

    if isinstance(data, pl.Series):
        res = _kama.kama_batch(_polars_values(data, "kama_batch"), *args, **kwargs)
        names = _unique([f"kama_{p}" for p in res["periods"].tolist()])
        return pl.DataFrame([pl.Series(name, row, nan_to_null=True) for name, row in zip(names, res["values"])])
    if isinstance(data, pl.DataFrame):
        columns = data.columns
        values = np.vstack([_polars_values(data[c], "kama_batch") for c in columns]) if columns else \
            np.empty((0, data.height))
        res = _column_errors(lambda: _kama.kama_batch(values, *args, **kwargs), columns)
        periods = res["periods"].tolist()
        names = _unique([f"{c}_kama_{p}" for c in columns for p in periods])
        rows = [res["values"][j, k] for j in range(len(columns)) for k in range(len(periods))]
        return pl.DataFrame([pl.Series(name, row, nan_to_null=True) for name, row in zip(names, rows)])
    raise TypeError(f"kama_batch: a polars {type(data).__name__} is not a Series or DataFrame")


# ---- entry points (called from C) ---------------------------------------------------------------

def kama(data, *args, **kwargs):
    return (_pandas_kama if _library(data) == "pandas" else _polars_kama)(data, args, kwargs)


def kama_batch(data, *args, **kwargs):
    return (_pandas_batch if _library(data) == "pandas" else _polars_batch)(data, args, kwargs)


def update_many(stream, values):
    if _library(values) == "pandas":
        import pandas as pd

        if isinstance(values, pd.Series):
            y = stream.update_many(_pandas_values(values, "KamaStream.update_many"))
            return pd.Series(y, index=values.index, name=values.name, copy=False)
        return stream.update_many(np.asarray(values))
    import polars as pl

    if isinstance(values, pl.Series):
        y = stream.update_many(_polars_values(values, "KamaStream.update_many"))
        return pl.Series(values.name, y, nan_to_null=True)
    raise TypeError(f"KamaStream.update_many: values must be a 1-D sequence of numbers, "
                    f"not a polars {type(values).__name__}")
