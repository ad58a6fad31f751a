"""python -m kama: KAMA of a price column in a CSV file (or of a generated price path)."""
from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np

import kama


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kama",
        description="Kaufman's Adaptive Moving Average of a price column.",
        epilog="Without a file: python -m kama --demo (a generated price path).",
    )
    p.add_argument("csv", nargs="?", type=Path, help="CSV file with a header row")
    p.add_argument("--column", default="close", help="price column (default: close)")
    p.add_argument("--period", type=int, default=30, help="efficiency-ratio window (default: 30)")
    p.add_argument("--fast", type=int, default=2, help="fast smoothing period (default: 2)")
    p.add_argument("--slow", type=int, default=30, help="slow smoothing period (default: 30)")
    p.add_argument("--compat", choices=("vectorta", "talib", "tulipy", "pandas_ta"), default="vectorta")
    p.add_argument("--kernel", default=None, help=f"one of {kama.kernels()} (default: the best)")
    p.add_argument("--out", type=Path, help="write the input columns plus the KAMA column here")
    p.add_argument("--plot", type=Path, help="draw price and KAMA into this PNG (needs matplotlib)")
    p.add_argument("--plot-last", type=int, metavar="BARS", help="plot only the last BARS bars")
    p.add_argument("--demo", nargs="?", type=int, const=2000, metavar="BARS",
                   help="use a generated price path of BARS bars (default 2000) instead of a file")
    p.add_argument("--seed", type=int, default=0, help="random seed for --demo")
    return p


def _demo_table(bars: int, seed: int) -> tuple[list[str], list[list[str]]]:
    """A geometric random walk with a volatility regime change, so KAMA has trends and chop."""
    rng = np.random.default_rng(seed)
    vol = np.where(np.arange(bars) % 500 < 250, 0.004, 0.015)
    drift = 0.0006 * np.sin(np.arange(bars) / 120.0)
    close = 100.0 * np.exp(np.cumsum(drift + vol * rng.standard_normal(bars)))
    return ["bar", "close"], [[str(i), repr(float(c))] for i, c in enumerate(close)]


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise SystemExit(f"error: {path} is empty")
    return rows[0], rows[1:]


def _to_float(text: str) -> float:
    text = text.strip()
    if not text or text.lower() in ("nan", "na", "null", "none"):
        return math.nan
    return float(text)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.demo is not None:
        header, rows = _demo_table(args.demo, args.seed)
        source = f"generated price path ({args.demo} bars, seed {args.seed})"
    elif args.csv is not None:
        if not args.csv.exists():
            print(f"error: no such file: {args.csv} (without a file, try --demo)", file=sys.stderr)
            return 2
        header, rows = _read_table(args.csv)
        source = str(args.csv)
    else:
        _parser().print_usage(sys.stderr)
        print("error: give a CSV file or --demo", file=sys.stderr)
        return 2
    if args.column not in header:
        print(f"error: no column {args.column!r}; columns are {header}", file=sys.stderr)
        return 2
    col = header.index(args.column)
    try:
        prices = np.array([_to_float(r[col]) for r in rows], dtype=np.float64)
    except (ValueError, IndexError) as exc:
        print(f"error: column {args.column!r} is not numeric: {exc}", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    try:
        values = kama.kama(prices, args.period, args.kernel, fast=args.fast, slow=args.slow, compat=args.compat)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - t0

    name = f"kama_{args.period}"
    valid = np.flatnonzero(~np.isnan(values))
    print(f"{source}: {len(prices)} rows, column {args.column!r}")
    print(f"KAMA(period={args.period}, fast={args.fast}, slow={args.slow}, compat={args.compat!r}) "
          f"in {elapsed * 1e3:.3f} ms; kernels here: {', '.join(kama.kernels())}")
    if valid.size:
        print(f"first value at row {valid[0]}; last {min(5, valid.size)} rows:")
        key = header[0]
        print(f"  {key:>16} {args.column:>14} {name:>14}")
        for i in range(max(valid[0], len(values) - 5), len(values)):
            print(f"  {rows[i][0]:>16} {prices[i]:14.6f} {values[i]:14.6f}")
    else:
        print("no value: the series is shorter than one window")

    if args.out:
        with args.out.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header + [name])
            for r, v in zip(rows, values):
                w.writerow(r + ["" if math.isnan(v) else repr(float(v))])
        print(f"wrote {args.out}")
    if args.plot:
        try:
            keep = slice(-args.plot_last if args.plot_last else 0, None)
            _plot(args.plot, header, rows[keep], prices[keep], values[keep], name, source)
        except ImportError:
            print("error: --plot needs matplotlib: pip install 'kama[plot]'", file=sys.stderr)
            return 2
        print(f"drew {args.plot}")
    return 0


def _plot(path, header, rows, prices, values, name, source):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(prices))
    xlabel = "bar"
    if "timestamp_ms" in header:
        col = header.index("timestamp_ms")
        x = np.array([np.datetime64(int(float(r[col])), "ms") for r in rows])
        xlabel = "time (UTC)"
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    ax.plot(x, prices, lw=0.7, color="0.55", label="price")
    ax.plot(x, values, lw=1.4, color="tab:blue", label=name)
    ax.set_title(f"{name} over {Path(source).name if Path(source).exists() else source}")
    ax.set_xlabel(xlabel)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
