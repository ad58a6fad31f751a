"""KAMA as a polars expression: `import kama.polars` registers `Expr.kama`, so that

    import polars as pl, kama.polars
    lf.with_columns(pl.col("close").kama(30).over("symbol"))

runs in eager and lazy frames and per group with `.over(...)`. `kama.polars.kama(expr, ...)`
builds the same expression. Every option of `kama.kama` passes through; missing outputs (the
warm-up, skipped bars) are null, and null inputs are missing values. The expression sees the
whole column (or group) at once: KAMA is a recurrence over the full series, so it is not
elementwise and polars must not split it.
"""
from __future__ import annotations

import polars as pl

from . import _kama
from ._frames import _polars_values

__all__ = ["kama"]


def _series(s: pl.Series, period, options) -> pl.Series:
    y = _kama.kama(_polars_values(s, "kama"), period, **options)
    return pl.Series(s.name, y, nan_to_null=True)


def kama(expr: pl.Expr | str, period: int = 30, **options) -> pl.Expr:
    """KAMA of `expr` (an expression or a column name) as a Float64 expression."""
    if isinstance(expr, str):
        expr = pl.col(expr)
    return expr.map_batches(lambda s: _series(s, period, options), return_dtype=pl.Float64)


@pl.api.register_expr_namespace("kama")
class KamaExpr:
    """`pl.col("close").kama(30, compat="talib")`: the namespace is callable."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def __call__(self, period: int = 30, **options) -> pl.Expr:
        return kama(self._expr, period, **options)
