"""The speed table of issue 11, every row in one process: kama against the peers (and against
writing the output) on the same data, interleaved repeats, medians.

    python bench/bench_goals.py [--repeats 9] [--quick]

One-thread rows are timed in per-thread CPU time (time.thread_time), which this shared
machine's noise touches less than wall time; rows that use both cores, and the stream loops
(whose cost is the interpreter's), in wall time. Ratios are the peer's time over kama's, so
higher is better for kama, except where the row says "ours/theirs".
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import kama


def walk(n, seed=0):
    return 100 + np.cumsum(np.random.default_rng(seed).standard_normal(n))


def timed(f, clock, number):
    t = clock()
    for _ in range(number):
        f()
    return (clock() - t) / number


def number_for(f, clock, budget):
    f()
    k, t = 0, clock()
    while clock() - t < budget:
        f()
        k += 1
    return max(1, k)


def race(pairs, repeats, clock, budget=0.05):
    """pairs: {label: f}; medians over repeats, the functions taking turns within a repeat."""
    numbers = {k: number_for(f, clock, budget / 3) for k, f in pairs.items()}
    samples = {k: [] for k in pairs}
    for _ in range(repeats):
        for k, f in pairs.items():
            samples[k].append(timed(f, clock, numbers[k]))
    return {k: statistics.median(v) for k, v in samples.items()}


def rows(repeats, quick):
    out = []
    try:
        import talib
    except ImportError:
        talib = None
    try:
        import vector_ta
    except ImportError:
        vector_ta = None
    cpu, wall = time.thread_time, time.perf_counter

    for n, goal in ((100, 2.0), (1_000, 2.0), (10_000, 2.5), (1_000_000, 2.5)):
        x = walk(n)
        if talib is None:
            out.append((f"{n:,} points vs talib.KAMA, one thread", "talib not installed", f">= {goal}x"))
            continue
        m = race({"kama": lambda: kama.kama(x, 30, threads=1), "talib": lambda: talib.KAMA(x, 30)}, repeats, cpu)
        out.append((f"{n:,} points vs talib.KAMA, one thread", f"{m['talib'] / m['kama']:.2f}x", f">= {goal}x"))
    x = walk(1_000_000)
    if talib is not None:
        m = race({"kama": lambda: kama.kama(x, 30), "talib": lambda: talib.KAMA(x, 30)}, repeats, wall)
        out.append(("1,000,000 points vs talib.KAMA, default threads", f"{m['talib'] / m['kama']:.2f}x", ">= 4x"))

    bars = walk(20_000 if quick else 200_000).tolist()
    if vector_ta is not None:
        def ours():
            s = kama.KamaStream(30)
            for v in bars:
                s.update(v)

        def theirs():
            s = vector_ta.KamaStream(30)
            for v in bars:
                s.update(v)
        m = race({"ours": ours, "theirs": theirs}, max(3, repeats // 3), wall, budget=0.2)
        out.append((f"KamaStream.update loop over {len(bars):,} bars, ours/theirs (vector_ta)",
                    f"{m['ours'] / m['theirs']:.2f}", "<= 0.7"))

    s = kama.KamaStream(30)
    m = race({"many": lambda: s.update_many(x)}, repeats, cpu)
    out.append(("KamaStream.update_many on 1,000,000 values", f"{len(x) / m['many'] / 1e6:.0f} M values/s",
                ">= 200 M values/s"))

    periods = list(range(5, 5 + 64))
    m = race({"sweep": lambda: kama.kama_batch(x, periods=periods),
              "fill": lambda: np.empty((64, len(x))).fill(1.0)}, max(3, repeats // 2), wall, budget=0.5)
    out.append(("sweep of 64 periods over 1,000,000 points vs numpy.empty(...).fill", f"{m['sweep'] / m['fill']:.2f}x",
                "<= 1.3x"))

    panel = 100 + np.cumsum(np.random.default_rng(3).standard_normal((200 if quick else 2000, 10_000)), axis=1)

    # The loop keeps its results, as a user's loop does; a loop that drops each result reuses the
    # same memory every time and never pays for the pages of the result (numpy.empty(...).fill:
    # about two thirds of the one call's time here), so it is shown too.
    def loop_kept():
        return [kama.kama(row, 30, threads=1) for row in panel]

    def loop_dropped():
        for row in panel:
            kama.kama(row, 30, threads=1)
    m = race({"one": lambda: kama.kama(panel, 30), "kept": loop_kept, "dropped": loop_dropped,
              "fill": lambda: np.empty(panel.shape).fill(1.0)}, max(3, repeats // 2), wall, budget=0.5)
    out.append((f"{len(panel):,} series x 10,000 points in one call vs a loop of 1-D calls keeping the results",
                f"{m['kept'] / m['one']:.2f}x", ">= 1.5x"))
    out.append(("  the same vs a loop that drops each result; the one call vs writing its result (fill)",
                f"{m['dropped'] / m['one']:.2f}x; {m['one'] / m['fill']:.2f}x", ""))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="smaller stream loop and panel")
    args = ap.parse_args(argv)
    print(f"kama {kama.__version__}, kernels {kama.kernels()}, medians of {args.repeats} interleaved repeats")
    print("| work | now | goal |")
    print("|---|---:|---:|")
    for work, now, goal in rows(args.repeats, args.quick):
        print(f"| {work} | {now} | {goal} |")


if __name__ == "__main__":
    main()
