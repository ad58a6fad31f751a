"""The floor under one series' KAMA on this machine: the hardware limits that bound it,
measured (bench/floor.cpp, built here with g++), next to what kama and TA-Lib reach.

    python bench/bench_floor.py

Prints, per output: the clock; the dependent chain of one step of the recurrence, unfused
(TA-Lib's and kernel="scalar"'s critical path) and fused; the SIMD kernel's division and store
costs; the memory traffic of reading the input and writing the result (numpy's copy of the same
size); and kama's and talib's time at 10k and 1M points, one thread, in cycles.

Then the same per size, from 50k to 4M points: where the input and the result stop fitting in
the caches, the memory traffic (numpy's copy) grows and kama's time with it, while TA-Lib's
single chain hides it.

The lane kernel (csrc/kernels/simd_kama.hpp) stores, per row of 8 outputs, 4 vectors (the
transposed price row, the next block's suffix sums, the staged outputs, the outputs) and in a
lane's head 5 (the staged outputs and P kept apart, written once the carries are known). The
head lasts until P < 2^-120: about
2,100-2,400 rows on a random walk with period 30 (mean efficiency ratio ~0.18), up to ~20,000
at an efficiency ratio of 0, so at 10k points (lanes of ~1,250 rows) it is the whole lane and at
1M (lanes of 8,192 rows) about 30% of it. Its resource floor is max(division, 4-5 stores) per
8 outputs; the figures below say how far above it runs.
"""
from __future__ import annotations

import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import kama

HERE = pathlib.Path(__file__).resolve().parent


def cpu_flags():
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def hardware():
    """floor.cpp's figures, ns per operation."""
    if not {"avx512f", "avx2", "fma"} <= cpu_flags() or not shutil.which("g++"):
        sys.exit("bench_floor.py needs g++ and a CPU with AVX-512F, AVX2 and FMA (see /proc/cpuinfo)")
    with tempfile.TemporaryDirectory() as tmp:
        exe = pathlib.Path(tmp) / "floor"
        subprocess.run(["g++", "-O2", "-std=c++17", "-mavx512f", "-mavx2", "-mfma", "-ffp-contract=off",
                        str(HERE / "floor.cpp"), "-o", str(exe)], check=True)
        out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in (line.split() for line in out.splitlines())}


def per_output(f, n, repeats=15):
    """Median per-thread CPU time of f() per output, ns."""
    number = max(3, 2_000_000 // n)
    samples = []
    for _ in range(repeats):
        t = time.thread_time_ns()
        for _ in range(number):
            f()
        samples.append((time.thread_time_ns() - t) / number / n)
    return statistics.median(samples)


def main():
    hw = hardware()
    cycle = hw["cycle"]
    print(f"clock: {1 / cycle:.2f} GHz ({cycle:.4f} ns a cycle)\n")
    print("| limit | ns per output | cycles per output |")
    print("|---|---:|---:|")
    rows = [
        ("recurrence chain, unfused (TA-Lib, kernel='scalar')", hw["chain"]),
        ("recurrence chain, fused multiply-add", hw["chain_fma"]),
        ("division, 8 lanes (one per output)", hw["div_zmm"] / 8),
        ("division, 4 lanes", hw["div_ymm"] / 4),
        ("one 64-byte store (8 outputs' row)", hw["store_zmm"] / 8),
        ("lane kernel's stores: 5 per 8 outputs in a head (4 past it)", 5 * hw["store_zmm"] / 8),
    ]
    for name, ns in rows:
        print(f"| {name} | {ns:.3f} | {ns / cycle:.2f} |")
    try:
        import talib
    except ImportError:
        talib = None
    for n in (10_000, 1_000_000):
        x = 100 + np.cumsum(np.random.default_rng(0).standard_normal(n))
        out = np.empty(n)
        copy = np.empty(n)
        timed = {
            f"numpy copy of the input ({n:,}: read + write)": per_output(lambda: np.copyto(copy, x), n),
            f"kama.kama, {n:,} points, threads=1": per_output(lambda: kama.kama(x, 30, threads=1, out=out), n),
        }
        if talib is not None:
            timed[f"talib.KAMA, {n:,} points"] = per_output(lambda: talib.KAMA(x, 30), n)
        for name, ns in timed.items():
            print(f"| {name} | {ns:.3f} | {ns / cycle:.2f} |")

    print("\n| points | kama, threads=1 (ns/output) | talib.KAMA | numpy copy | talib / kama |")
    print("|---:|---:|---:|---:|---:|")
    for n in (50_000, 200_000, 1_000_000, 4_000_000):
        x = 100 + np.cumsum(np.random.default_rng(0).standard_normal(n))
        out, copy = np.empty(n), np.empty(n)
        ns_kama = per_output(lambda: kama.kama(x, 30, threads=1, out=out), n, repeats=9)
        ns_copy = per_output(lambda: np.copyto(copy, x), n, repeats=9)
        if talib is not None:
            ns_talib = per_output(lambda: talib.KAMA(x, 30), n, repeats=9)
            print(f"| {n:,} | {ns_kama:.3f} | {ns_talib:.3f} | {ns_copy:.3f} | {ns_talib / ns_kama:.2f}x |")
        else:
            print(f"| {n:,} | {ns_kama:.3f} | — | {ns_copy:.3f} | — |")


if __name__ == "__main__":
    main()
