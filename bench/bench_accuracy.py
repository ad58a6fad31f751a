"""Accuracy of kama and its peers against the 80-digit decimal reference (tests/reference.py).

    python bench/bench_accuracy.py

Two sets: a spike torture set (random walks near 100 with one 1e12 tick; error measured once
the tick has left the window, relative to the walk's own scale) and, when present, the BTC/USD
4h closes from ../shared/data (error relative to max|price|).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from reference import kama_exact  # noqa: E402

import kama  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data" / "btcusd_4h_bitfinex.csv"


def implementations(compat: str):
    impls = {f"kama ({k})": (lambda x, p, k=k: kama.kama(x, p, kernel=k, compat=compat)) for k in kama.kernels()}
    try:
        if compat == "vectorta":
            import vector_ta

            impls["vector_ta.kama"] = lambda x, p: vector_ta.kama(x, p)
        elif compat == "talib":
            import talib

            impls["talib.KAMA"] = lambda x, p: talib.KAMA(x, p)
        elif compat == "tulipy":
            import tulipy

            impls["tulipy.kama"] = lambda x, p: np.r_[np.full(p - 1, np.nan), tulipy.kama(x, p)]
        else:
            import pandas as pd
            import pandas_ta  # Python >= 3.12

            impls["pandas_ta.kama"] = lambda x, p: pandas_ta.kama(pd.Series(x), length=p).to_numpy()
    except ImportError:
        pass
    return impls


def spike_errors(compat: str, period: int = 30, seeds: int = 8, n: int = 20_000):
    """Worst (relative error once the tick has left the window, error over the last 500 bars
    relative to the walk's scale): the second is the error the tick left behind for good."""
    worst = {}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        x = 100 + np.cumsum(rng.standard_normal(n))
        scale = np.abs(x).max()
        k = 200 + 2311 * seed  # spread over the lanes of the SIMD kernels
        x[k] = 1e12
        exact = np.array(kama_exact(x, period, compat=compat))
        after, tail = slice(k + period + 1, n), slice(n - 500, n)
        for name, f in implementations(compat).items():
            err = np.abs(f(x, period) - exact)
            rel = np.nanmax(err[after] / np.abs(exact[after]))
            lasting = np.nanmax(err[tail]) / scale
            old = worst.get(name, (0.0, 0.0))
            worst[name] = (max(old[0], rel), max(old[1], lasting))
    return worst


def real_errors(compat: str, period: int = 30):
    if not DATA.exists():
        return None
    x = np.loadtxt(DATA, delimiter=",", skiprows=1, usecols=2)
    exact = np.array(kama_exact(x, period, compat=compat))
    return {name: np.nanmax(np.abs(f(x, period) - exact)) / np.abs(x).max()
            for name, f in implementations(compat).items()}


def main() -> None:
    print("Errors against the exact reference (SPEC §2 bounds: 1e-12 of the scale; "
          "1e-10 relative after a spike)")
    print("\n| compat | implementation | after a 1e12 tick: max relative error | "
          "last 500 bars: max error / scale | BTC/USD 4h, period 30: max error / max price |")
    print("|---|---|---:|---:|---:|")
    for compat in ("vectorta", "talib", "tulipy", "pandas_ta"):
        real = real_errors(compat) or {}
        for name, (rel, lasting) in spike_errors(compat).items():
            btc = f"{real[name]:.1e}" if name in real else "(data not present)"
            print(f"| {compat} | {name} | {rel:.1e} | {lasting:.1e} | {btc} |")


if __name__ == "__main__":
    main()
