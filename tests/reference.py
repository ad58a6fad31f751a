"""Pure-Python references for KAMA, written from ../shared/SPEC.md §1 and nothing else, for
every mode: vectorta, talib, tulipy (talib's values with the seed x[f+p-1] in front) and
pandas_ta (the seed is the mean of the first p prices; ER = 1/p on a flat window).

- `kama_ref`: float arithmetic, the volatility summed afresh for every bar (no running sum),
  so it carries no rounding history; handles NaN the way the contract says.
- `kama_exact`: the window sums and changes in exact integers, the recurrence in decimal
  arithmetic at 80 digits, from the exact values of the input doubles: the "exact" answer to
  compare accuracy against (inputs must be NaN-free after the leading NaN run).
"""
from __future__ import annotations

import math
from decimal import Decimal, localcontext

NAN = float("nan")


def _first_valid(x):
    for i, v in enumerate(x):
        if not math.isnan(v):
            return i
    return len(x)


def _mean(xs):
    """The correctly rounded mean (an infinite or NaN term gives what a plain sum gives)."""
    if all(math.isfinite(v) for v in xs):
        return math.fsum(xs) / len(xs)
    return sum(xs) / len(xs)


def kama_ref(x, period, fast=2, slow=30, compat="vectorta"):
    x = [float(v) for v in x]
    n, p = len(x), period
    y = [NAN] * n
    f = _first_valid(x)
    if f == n:
        return y
    fsc, ssc = 2.0 / (fast + 1), 2.0 / (slow + 1)
    if compat == "talib" and p == 1:
        y[f:] = x[f:]
        return y
    if compat in ("tulipy", "pandas_ta") and f + p <= n:  # these modes output their seed
        y[f + p - 1] = x[f + p - 1] if compat == "tulipy" else _mean(x[f:f + p])
    if f + p >= n:
        return y
    prev = x[f + p - 1] if compat != "pandas_ta" else y[f + p - 1]
    for i in range(f + p, n):
        s = sum(abs(x[j] - x[j - 1]) for j in range(i - p + 1, i + 1))
        r = x[i] - x[i - p]
        if compat == "vectorta":
            if i == f + p:
                y[i] = prev = x[i]
                continue
            er = 0.0 if s == 0 else abs(r) / s
        elif compat == "pandas_ta":
            er = 1.0 / p if s == 0 else abs(r) / s
        else:  # talib, tulipy
            er = 1.0 if s <= r else abs(r / s)
        c = (er * (fsc - ssc) + ssc) ** 2
        prev = prev + c * (x[i] - prev)
        y[i] = prev
    return y


def _exact_ints(xs):
    """The doubles xs as integers on one common binary scale, exactly (ratios are unchanged)."""
    parts = [math.frexp(v) for v in xs]
    low = min((e - 53 for m, e in parts if m != 0), default=0)
    return [int(m * (1 << 53)) << (e - 53 - low) if m else 0 for m, e in parts]


def kama_exact(x, period, fast=2, slow=30, compat="vectorta"):
    """KAMA in 80-digit decimal arithmetic; returns floats (NaN in the warm-up)."""
    x = [float(v) for v in x]
    n, p = len(x), period
    f = _first_valid(x)
    if any(math.isnan(v) for v in x[f:]):
        raise ValueError("kama_exact takes NaN only in the leading run")
    y = [NAN] * n
    if f == n:
        return y
    with localcontext() as ctx:
        ctx.prec = 80
        d = [Decimal(v) for v in x]  # exact values of the doubles
        fsc, ssc = Decimal(2) / (fast + 1), Decimal(2) / (slow + 1)
        if compat == "talib" and p == 1:
            y[f:] = x[f:]
            return y
        prev = d[f + p - 1] if f + p <= n else None
        if compat == "pandas_ta" and prev is not None:  # the mean of the first p prices
            prev = sum(d[f:f + p]) / p
        if compat in ("tulipy", "pandas_ta") and prev is not None:  # these modes output their seed
            y[f + p - 1] = float(prev)
        if f + p >= n:
            return y
        # S and R in exact integers: a running sum of decimals rounds at 80 digits, and on data
        # spanning 1e-2 to 1e-59 it left +-1e-82 where a flat window's S is exactly 0, which
        # flips TA-Lib's S <= R test.
        q = [0] * f + _exact_ints(x[f:])
        s = sum(abs(q[j] - q[j - 1]) for j in range(f + 1, f + p + 1))
        for i in range(f + p, n):
            if i > f + p:
                s += abs(q[i] - q[i - 1]) - abs(q[i - p] - q[i - p - 1])
            r = q[i] - q[i - p]
            if compat == "vectorta":
                if i == f + p:
                    prev = d[i]
                    y[i] = float(prev)
                    continue
                er = Decimal(0) if s == 0 else Decimal(abs(r)) / Decimal(s)
            elif compat == "pandas_ta":
                er = Decimal(1) / p if s == 0 else Decimal(abs(r)) / Decimal(s)
            else:  # talib, tulipy
                er = Decimal(1) if s <= r else Decimal(abs(r)) / Decimal(s)
            c = (er * (fsc - ssc) + ssc) ** 2
            prev = prev + c * (d[i] - prev)
            y[i] = float(prev)
    return y
