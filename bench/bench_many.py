"""Many at once: a sweep of periods over one series, and many series of one period.

    python bench/bench_many.py [--repeats 5]

Medians of repeats, every case in the same run. The memory-write bound is the time to
allocate and fill an array the size of the output (numpy.empty(...).fill).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import kama

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from bench_single import machine, peers, version  # noqa: E402


def median_time(f, repeats):
    f()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def report(title, cases, base, repeats):
    times = {name: median_time(f, repeats) for name, f in cases.items()}
    print(f"\n{title}\n| case | ms | vs {base} |\n|---|---:|---:|")
    for name, t in times.items():
        print(f"| {name} | {t * 1e3:,.1f} | {t / times[base]:.2f}x |")
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    mods = peers()
    vta = mods.get("vector_ta")
    print(f"machine: {machine()}")
    print(f"versions: kama {version('kama')}, vector-ta {version('vector-ta')}; kernels {kama.kernels()}")
    rng = np.random.default_rng(0)

    x = 1000 + np.cumsum(rng.standard_normal(1_000_000))
    periods = (10, 73, 1)  # 64 rows
    cases = {
        "kama.kama_batch": lambda: kama.kama_batch(x, periods),
        "kama.kama_batch threads=1": lambda: kama.kama_batch(x, periods, threads=1),
        "loop of kama.kama": lambda: [kama.kama(x, p) for p in range(10, 74)],
        "numpy.empty((64, 1e6)).fill": lambda: np.empty((64, x.size)).fill(1.0),
    }
    if vta:
        cases["vector_ta.kama_batch"] = lambda: vta.kama_batch(x, periods)
        cases["loop of vector_ta.kama"] = lambda: [vta.kama(x, p) for p in range(10, 74)]
    report("Sweep: 64 periods (10..73) over 1,000,000 points", cases, "kama.kama_batch", args.repeats)

    panel = 1000 + np.cumsum(rng.standard_normal((2000, 10_000)), axis=1)
    cases = {
        "kama.kama (2-D)": lambda: kama.kama(panel, 30),
        "kama.kama (2-D) threads=1": lambda: kama.kama(panel, 30, threads=1),
        "loop of kama.kama": lambda: [kama.kama(row, 30) for row in panel],
        "numpy.empty((2000, 1e4)).fill": lambda: np.empty(panel.shape).fill(1.0),
    }
    if vta:
        cases["loop of vector_ta.kama"] = lambda: [vta.kama(row, 30) for row in panel]
    report("Panel: 2,000 series x 10,000 points, period 30", cases, "kama.kama (2-D)", args.repeats)


if __name__ == "__main__":
    main()
