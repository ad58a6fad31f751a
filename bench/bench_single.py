"""Single-series speed of kama against its peers, in one run.

    python bench/bench_single.py [--repeats 15] [--json out.json]

Every timing is the median over repeats of (time of `number` calls) / number; the peers run
interleaved with kama inside each repeat so that machine drift hits all alike. Ratios are
peer time / kama time (>1: kama is faster).
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


def kama_and_peers(mods, x, kernels=("auto",)):
    """One call each of kama (per kernel) and of the peers' KAMA on x, as closures."""
    cases = {("kama" if k == "auto" else f"kama ({k})"): (lambda k=k: kama.kama(x, 30, kernel=k)) for k in kernels}
    if "vector_ta" in mods:
        cases["vector_ta.kama"] = lambda: mods["vector_ta"].kama(x, 30)
    if "talib" in mods:
        cases["talib.KAMA"] = lambda: mods["talib"].KAMA(x, 30)
    return cases


def timed(cases: dict, number: int, repeats: int) -> dict:
    """Median seconds per call of each case, the cases interleaved in every repeat."""
    samples = {k: [] for k in cases}
    for f in cases.values():
        f()  # warm-up
    for _ in range(repeats):
        for name, f in cases.items():
            t0 = time.perf_counter()
            for _ in range(number):
                f()
            samples[name].append((time.perf_counter() - t0) / number)
    return {k: statistics.median(v) for k, v in samples.items()}


def table(title: str, results: dict, unit: str, scale: float, base: str) -> str:
    lines = [f"\n{title}", f"| implementation | {unit} | vs {base} |", "|---|---:|---:|"]
    for name, t in results.items():
        lines.append(f"| {name} | {t * scale:,.3f} | {t / results[base]:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--json", help="also write the medians here")
    args = ap.parse_args()
    mods = peers()
    rng = np.random.default_rng(0)
    out = {"machine": machine(), "versions": {d: version(d) for d in ("kama", "vector-ta", "ta-lib", "talipp")}}
    print(f"machine: {out['machine']}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in out["versions"].items()))
    print(f"kama kernels here: {kama.kernels()}; medians of {args.repeats} repeats")

    # 1M points, one call each.
    x = 1000 + np.cumsum(rng.standard_normal(1_000_000))
    big = timed(kama_and_peers(mods, x, kama.kernels()), 3, args.repeats)
    print(table("1,000,000 points, period 30", big, "ms per call", 1e3, "kama (scalar)"))

    # 100 points: call overhead.
    x100 = x[:100].copy()
    small = timed(kama_and_peers(mods, x100), 20_000, args.repeats)
    print(table("100 points, period 30", small, "µs per call", 1e6, "kama"))

    # Streaming: one bar per call.
    values = (1000 + np.cumsum(rng.standard_normal(50_000))).tolist()
    ours = kama.KamaStream(30)
    cases = {"kama.KamaStream.update": ours.update}
    if "vector_ta" in mods:
        cases["vector_ta.KamaStream.update"] = mods["vector_ta"].KamaStream(30).update
    if "talipp.indicators" in mods:
        cases["talipp KAMA.add"] = mods["talipp.indicators"].KAMA(30, 2, 30).add
    stream = {}
    for name, update in cases.items():
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
    print(table("Streaming, one bar per call (Python loop included)", stream, "ns per call", 1e9,
                "kama.KamaStream.update"))
    print(f"(the bare Python loop over the same list costs {loop * 1e9:.1f} ns per bar)")

    out.update({"1M_seconds": big, "100_seconds": small, "stream_seconds": stream, "loop_seconds": loop})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
