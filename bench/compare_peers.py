"""How far each peer's KAMA is from the kama call that replaces it, measured on the same data:
the table in docs/peers.md comes from this script's output.

    python bench/compare_peers.py            # every peer importable in this environment
    python bench/compare_peers.py --json r.json

Peers that need another environment (pandas-ta: Python >= 3.12; ta-lib-takt: it installs as
`talib` too, so it gets a venv of its own) are measured by running the script there; the rows
of a peer that is not installed say so. Data: random walks at price scales 1e-8 to 1e6, the
BTC/USD 4h closes (../shared/data, when present), a walk with exactly flat runs (and the same
at a satoshi scale, x 1e-10), and a walk after 10 leading NaNs. Cells give the max relative
difference over the bars where both have a value, how many bars have a value in one only, and
whether the first bar where they part (by more than 1e-12) has an exactly flat window.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

import kama

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "btcusd_4h_bitfinex.csv"
PERIODS = (10, 30)


def walk(scale, seed, n=5000):
    """A price path: geometric, 1% a bar, so that it stays positive as prices do."""
    return scale * 100 * np.exp(np.cumsum(0.01 * np.random.default_rng(seed).standard_normal(n)))


def with_flat_runs(seed=7):
    a, c, e = walk(1.0, seed, 1500), walk(1.0, seed + 1, 1500), walk(1.0, seed + 2, 1800)
    c *= a[-1] / c[0]
    e *= c[-1] / e[0]
    return np.concatenate([a, np.full(200, a[-1]), c, np.full(40, c[-1]), e])


def flat_windows(x, p):
    """flat[i]: the p moves ending at bar i are all exactly 0."""
    nonzero = np.r_[0, np.cumsum(np.diff(x) != 0)]
    flat = np.zeros(len(x), dtype=bool)
    flat[p:] = nonzero[p:] == nonzero[:-p]
    return flat


def datasets():
    sets = {"ordinary": [walk(s, seed=i) for i, s in enumerate((1e-8, 1e-4, 1.0, 1e3, 1e6))]}
    if DATA.exists():
        sets["ordinary"].append(np.loadtxt(DATA, delimiter=",", skiprows=1, usecols=2))
    # The second has an arithmetic walk before its flat runs, whose running sums in some peers
    # do not come back to exactly 0 there.
    additive = 100 + np.cumsum(np.random.default_rng(7).standard_normal(5000))
    additive[1500:1700], additive[3200:3240] = additive[1499], additive[3199]
    sets["flat runs"] = [with_flat_runs(), additive]
    sets["satoshi, flat runs"] = [x * 1e-10 for x in sets["flat runs"]]
    sets["leading NaNs"] = [np.r_[np.full(10, np.nan), walk(1.0, seed=9)]]
    return sets


def version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def quiet(f):
    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(f(*args), dtype=float)
    return run


def peers():
    """(name, distribution, call to replace, kama call, mode, loader); a loader returns f(x, p)."""
    def vector_ta():
        import vector_ta
        return lambda x, p: vector_ta.kama(x, p)

    def talib():
        import talib
        return lambda x, p: talib.KAMA(x, p)

    def tulipy():
        import tulipy
        return lambda x, p: np.r_[np.full(p - 1, np.nan), tulipy.kama(np.ascontiguousarray(x), p)]

    def ta():
        import pandas as pd
        from ta.momentum import KAMAIndicator
        return lambda x, p: KAMAIndicator(pd.Series(x), window=p, pow1=2, pow2=30).kama().to_numpy()

    def pandas_ta_classic():
        import pandas as pd
        import pandas_ta_classic
        return lambda x, p: pandas_ta_classic.kama(pd.Series(x), length=p, fast=2, slow=30).to_numpy()

    def pandas_ta():
        import pandas as pd
        import pandas_ta
        return lambda x, p: pandas_ta.kama(pd.Series(x), length=p, fast=2, slow=30).to_numpy()

    def ta_numba():
        from ta_numba.momentum import kama as f
        return lambda x, p: f(x, p, 2, 30)

    def talipp():
        from talipp.indicators import KAMA
        return lambda x, p: np.array([np.nan if v is None else v for v in KAMA(p, 2, 30, input_values=list(x))])

    def polars_talib():
        import polars as pl
        import polars_talib  # noqa: F401 (registers the .ta namespace)
        return lambda x, p: pl.DataFrame({"x": x}).select(pl.col("x").ta.kama(timeperiod=p)).to_series().to_numpy()

    takt = version("ta-lib-takt") is not None
    return [
        ("VectorTA", "vector-ta", "vector_ta.kama(x, p)", "kama.kama(x, p)", "vectorta", vector_ta),
        ("ta-lib-takt" if takt else "TA-Lib", "ta-lib-takt" if takt else "TA-Lib", "talib.KAMA(x, p)",
         'kama.kama(x, p, compat="talib")', "talib", talib),
        ("tulipy", "tulipy", "tulipy.kama(x, p)", 'kama.kama(x, p, compat="tulipy")', "tulipy", tulipy),
        ("ta", "ta", "KAMAIndicator(s, window=p).kama()", 'kama.kama(s, p, compat="tulipy")', "tulipy", ta),
        ("pandas-ta-classic", "pandas-ta-classic", "pandas_ta_classic.kama(s, length=p)",
         'kama.kama(s, p, compat="tulipy")', "tulipy", pandas_ta_classic),
        ("pandas-ta", "pandas-ta", "pandas_ta.kama(s, length=p)", 'kama.kama(s, p, compat="pandas_ta")',
         "pandas_ta", pandas_ta),
        ("ta-numba", "ta-numba", "ta_numba.momentum.kama(x, p)", 'kama.kama(x, p, compat="tulipy")', "tulipy",
         ta_numba),
        ("talipp", "talipp", "talipp.indicators.KAMA(p, 2, 30, input_values=x)", 'kama.kama(x, p, compat="talib")',
         "talib", talipp),
        ("polars-talib", "polars-talib", 'pl.col("x").ta.kama(timeperiod=p)', 'kama.kama(x, p, compat="talib")',
         "talib", polars_talib),
    ]


def compare(ours, theirs, x, p):
    """(max relative difference where both have a value, bars with a value in one only, whether
    the first bar apart by more than 1e-12 has an exactly flat window)."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    both = ~np.isnan(ours) & ~np.isnan(theirs)
    one = int(np.sum(np.isnan(ours) != np.isnan(theirs)))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.abs(ours - theirs) / np.abs(theirs)
        apart = np.flatnonzero((rel > 1e-12) | (np.isnan(ours) != np.isnan(theirs)))
    at_flat = bool(flat_windows(x, p)[apart[0]]) if apart.size else None
    return (float(rel[both].max()) if both.any() else 0.0), one, at_flat


def measure():
    sets = datasets()
    rows = []
    for name, dist, call, ours_call, mode, load in peers():
        v = version(dist)
        row = {"peer": name, "version": v, "call": call, "kama": ours_call, "cells": {}}
        rows.append(row)
        try:
            f = quiet(load())
        except Exception as exc:  # not installed here, or does not import
            row["missing"] = f"{type(exc).__name__}: {exc}"
            continue
        for label, series in sets.items():
            worst, lone, flat = 0.0, 0, set()
            for x in series:
                for p in PERIODS:
                    rel, one, at_flat = compare(kama.kama(x, p, compat=mode), f(x, p), x, p)
                    worst, lone = max(worst, rel), lone + one
                    flat.add(at_flat)
            flat.discard(None)
            row["cells"][label] = (worst, lone, None if not flat else all(flat))
    return list(sets), rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    labels, rows = measure()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, kama {kama.__version__}; periods {PERIODS}")
    print("| peer | version | call | kama call | " + " | ".join(labels) + " |")
    print("|---|---|---|---|" + "---:|" * len(labels))
    for r in rows:
        if "missing" in r:
            cells = ["not installed here"] * len(labels)
        else:
            cells = [f"{rel:.1e}" + (f", {one} bars NaN in one only" if one else "")
                     + {None: "", True: ", apart first at a flat window", False: ""}[flat]
                     for rel, one, flat in (r["cells"][k] for k in labels)]
        print(f"| {r['peer']} | {r['version'] or '-'} | `{r['call']}` | `{r['kama']}` | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps({"python": sys.version, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
