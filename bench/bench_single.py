"""Single-series speed of kama against its peers, in one run.

    python bench/bench_single.py [--repeats 11] [--sizes 100,1000,...] [--plot docs/bench_single.png]

Every timing is the median over repeats of (time of `number` calls) / number; all
implementations run interleaved inside each repeat, so machine drift hits them alike. Ratios
are peer time / kama time (>1: kama is faster). kama's kernels run with threads=1; "kama auto"
is the default call (best kernel, threads=None: every core once the series is long enough).
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from importlib import metadata

import numpy as np

import kama

SIZES = (100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000)
TALIPP_MAX = 10_000  # pure Python: beyond this it only burns the run's time


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}"


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def peers():
    """name -> module for each peer that imports here."""
    found = {}
    for name in ("vector_ta", "talib", "talipp.indicators"):
        try:
            found[name] = importlib.import_module(name)
        except ImportError:
            pass
    return found


def cases_for(mods, x, period=30):
    """One call of each implementation on x, as closures."""
    cases = {f"kama {k}": (lambda k=k: kama.kama(x, period, kernel=k, threads=1)) for k in kama.kernels()}
    cases["kama auto"] = lambda: kama.kama(x, period)
    if "vector_ta" in mods:
        cases["vector_ta.kama"] = lambda: mods["vector_ta"].kama(x, period)
    if "talib" in mods:
        cases["talib.KAMA"] = lambda: mods["talib"].KAMA(x, period)
    if "talipp.indicators" in mods and len(x) <= TALIPP_MAX:
        values = x.tolist()
        cases["talipp KAMA"] = lambda: mods["talipp.indicators"].KAMA(period, 2, 30, input_values=values)
    return cases


def timed(cases: dict, repeats: int, budget: float = 0.02) -> dict:
    """Median seconds per call of each case, the cases interleaved in every repeat."""
    numbers = {}
    for name, f in cases.items():  # warm up, and size `number` to about `budget` seconds
        t0 = time.perf_counter()
        f()
        numbers[name] = max(1, int(budget / max(time.perf_counter() - t0, 1e-7)))
    samples = {k: [] for k in cases}
    for _ in range(repeats):
        for name, f in cases.items():
            number = numbers[name]
            t0 = time.perf_counter()
            for _ in range(number):
                f()
            samples[name].append((time.perf_counter() - t0) / number)
    return {k: statistics.median(v) for k, v in samples.items()}


def fmt(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:,.3g} {unit}"
    return f"{seconds / 1e-9:,.3g} ns"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--plot", help="write a PNG of ns per point against size")
    ap.add_argument("--json", help="also write the medians here")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    mods = peers()
    rng = np.random.default_rng(0)
    versions = {d: version(d) for d in ("kama", "vector-ta", "ta-lib", "talipp", "pandas-ta")}
    print(f"machine: {machine()}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"kama kernels here: {kama.kernels()}; medians of {args.repeats} repeats; period 30\n")

    results = {}
    for n in sizes:
        x = 1000 + np.cumsum(rng.standard_normal(n))
        results[n] = timed(cases_for(mods, x), args.repeats)
        print(f"n = {n:,} done", file=sys.stderr)
    names = list(dict.fromkeys(k for r in results.values() for k in r))
    print("| implementation | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name in names:
        cells = [fmt(results[n][name]) if name in results[n] else "—" for n in sizes]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for peer in ("talib.KAMA", "vector_ta.kama"):
        if all(peer in results[n] for n in sizes):
            print(f"\nspeed-up over {peer} (its time / kama's; >1: kama faster)")
            print("| kama | " + " | ".join(f"{n:,}" for n in sizes) + " |")
            print("|---|" + "---:|" * len(sizes))
            for name in (k for k in names if k.startswith("kama")):
                print(f"| {name} | " + " | ".join(f"{results[n][peer] / results[n][name]:.2f}x" for n in sizes) + " |")

    # Streaming: one bar per call, the Python loop included.
    values = (1000 + np.cumsum(rng.standard_normal(50_000))).tolist()
    updates = {"kama.KamaStream.update": kama.KamaStream(30).update}
    if "vector_ta" in mods:
        updates["vector_ta.KamaStream.update"] = mods["vector_ta"].KamaStream(30).update
    if "talipp.indicators" in mods:
        updates["talipp KAMA.add"] = mods["talipp.indicators"].KAMA(30, 2, 30).add
    stream = {}
    for name, update in updates.items():
        samples = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for v in values:
                update(v)
            samples.append((time.perf_counter() - t0) / len(values))
        stream[name] = statistics.median(samples)
    t0 = time.perf_counter()
    for v in values:
        pass
    loop = (time.perf_counter() - t0) / len(values)
    print("\n| one bar per call (Python loop included) | ns per call |\n|---|---:|")
    for name, t in stream.items():
        print(f"| {name} | {t * 1e9:,.0f} |")
    print(f"(the bare loop over the same list: {loop * 1e9:.0f} ns per bar)")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
        for name in names:
            pts = [(n, results[n][name] / n * 1e9) for n in sizes if name in results[n]]
            style = "-o" if name.startswith("kama") else "--s"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=name, ms=4)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("points per series")
        ax.set_ylabel("ns per point (lower is faster)")
        ax.set_title(f"KAMA(30), one series — {machine().split(',')[0]}, {os.cpu_count()} cores")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot)
        print(f"\nwrote {args.plot}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "versions": versions, "seconds": {str(n): r for n, r in results.items()},
                       "stream_seconds": stream}, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
