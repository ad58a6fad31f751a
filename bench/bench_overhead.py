"""The fixed cost of a call: a 100-point ndarray call (against an earlier build, in the same
process), and what a pandas or polars Series costs over the same ndarray call.

    python bench/bench_overhead.py                                  # this build only
    python bench/bench_overhead.py --baseline /path/to/old/_kama.abi3.so

The baseline is another build's extension file, loaded beside this one as module `_kama`
(its init function has that name). Every case runs in each repeat, in turn, and the figures are
medians over the repeats of the mean time of one call in a timed loop.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import time

import numpy as np

import kama


def load(path):
    spec = importlib.util.spec_from_file_location("_kama", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cases(baseline):
    x100 = 100 + np.cumsum(np.random.default_rng(0).standard_normal(100))
    x10k = 100 + np.cumsum(np.random.default_rng(1).standard_normal(10_000))
    out = {"ndarray, 100 points": lambda: kama.kama(x100, 30)}
    if baseline is not None:
        out["ndarray, 100 points (baseline build)"] = lambda: baseline.kama(x100, 30)
    out["ndarray, 10,000 points"] = lambda: kama.kama(x10k, 30)
    out["list, 100 points"] = (lambda v=x100.tolist(): kama.kama(v, 30))
    try:
        import pandas as pd

        s100, s10k = pd.Series(x100), pd.Series(x10k)
        out["pandas Series, 100 points"] = lambda: kama.kama(s100, 30)
        out["pandas Series, 10,000 points"] = lambda: kama.kama(s10k, 30)
    except ImportError:
        pass
    try:
        import polars as pl

        p100 = pl.Series("x", x100)
        out["polars Series, 100 points"] = lambda: kama.kama(p100, 30)
    except ImportError:
        pass
    return out


def measure(calls, repeats, budget=0.02):
    numbers = {}
    for name, f in calls.items():  # loop sizes for about `budget` seconds a sample
        f()
        t = time.perf_counter()
        k = 0
        while time.perf_counter() - t < budget / 4:
            f()
            k += 1
        numbers[name] = max(1, 4 * k)
    samples = {name: [] for name in calls}
    for _ in range(repeats):
        for name, f in calls.items():
            n = numbers[name]
            t = time.perf_counter_ns()
            for _ in range(n):
                f()
            samples[name].append((time.perf_counter_ns() - t) / n)
    return {name: statistics.median(v) for name, v in samples.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", help="another build's _kama*.so, timed in the same process")
    ap.add_argument("--repeats", type=int, default=31)
    args = ap.parse_args(argv)
    baseline = load(args.baseline) if args.baseline else None
    med = measure(cases(baseline), args.repeats)
    ref = med["ndarray, 100 points"]
    big = med["ndarray, 10,000 points"]
    print(f"medians of {args.repeats} interleaved repeats")
    print("| call | ns per call | vs the ndarray call of its size |")
    print("|---|---:|---:|")
    for name, ns in med.items():
        base = big if "10,000" in name else ref
        print(f"| {name} | {ns:,.0f} | {ns / base:.2f}x |")


if __name__ == "__main__":
    main()
