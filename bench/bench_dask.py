"""kama.dask throughput on a panel of several GB, on a distributed.LocalCluster of 1 and 2 worker
processes (one thread each), chunked along time and chunked by symbol, against kama.kama on
the same panel in memory.

    python bench/bench_dask.py [--gb 4] [--symbols 1000] [--repeats 3]

The panel (float64 random walks, symbols x bars) is made on the workers and kept there, so
that only the computation is timed: `kama.dask.kama(panel, 30).persist()` until every block is
done, results left on the workers. Time-chunked: blocks of (100 symbols, bars / 10); by symbol:
(100 symbols, all bars). In memory: the same panel built in this process, `kama.kama(panel,
30)` with threads=1 and with both cores. Medians of --repeats runs; M values/s = symbols *
bars / seconds.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np


def timed(f, repeats):
    samples = []
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        f()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gb", type=float, default=4.0, help="size of the input panel (the result is as large)")
    ap.add_argument("--symbols", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    import dask.array as da
    import distributed

    import kama.dask

    symbols = args.symbols
    bars = int(args.gb * 2**30 / 8 / symbols)
    values = symbols * bars
    print(f"panel: {symbols:,} symbols x {bars:,} bars = {values * 8 / 2**30:.1f} GiB float64, period 30, "
          f"medians of {args.repeats}")
    print("| run | workers | seconds | M values/s |")
    print("|---|---:|---:|---:|")
    rows = {}
    for workers in (1, 2):
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=40) as cluster, \
                distributed.Client(cluster) as client:
            step = -(-bars // 10)
            walk = da.random.default_rng(0).standard_normal((symbols, bars), chunks=(100, step))
            panel = (100 + walk.cumsum(axis=1)).persist()
            distributed.wait(panel)
            for label in ("time-chunked (100, bars/10)", "by symbol (100, all bars)"):
                if label.startswith("by symbol"):  # the same panel, whole series per block
                    data = panel.rechunk((100, bars)).persist()
                    distributed.wait(data)
                    del panel
                else:
                    data = panel

                def run(data=data):
                    y = kama.dask.kama(data, 30).persist()
                    distributed.wait(y)
                    del y
                seconds = timed(run, args.repeats)
                rows[(label, workers)] = seconds
                print(f"| {label} | {workers} | {seconds:.2f} | {values / seconds / 1e6:,.0f} |", flush=True)
                del data
            client.run(gc.collect)
    x = 100 + np.cumsum(np.random.default_rng(0).standard_normal((symbols, bars)), axis=1)
    for threads, label in ((1, "kama.kama in memory, threads=1"), (None, "kama.kama in memory, both cores")):
        def run(threads=threads):
            y = kama.kama(x, 30, threads=threads)
            del y
        seconds = timed(run, args.repeats)
        rows[(label, 0)] = seconds
        print(f"| {label} | — | {seconds:.2f} | {values / seconds / 1e6:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
