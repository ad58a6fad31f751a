"""python -m kama: KAMA of a price column in a CSV or Parquet file (or of a generated price path).

Every failure is one line on stderr starting with 'kama: error:' and exit status 2, checked
before anything is written."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import kama

from ._table import Table, TableError, read


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line in kama's form, status 2 (kama --help shows the usage)
        raise _Fail(f"{message} (kama --help lists the options)")


class _Fail(Exception):
    pass


def _positive(what):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} takes a whole number of bars, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{what} takes at least 1 bar, got {value}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="kama",
        description="Kaufman's Adaptive Moving Average of a price column in a CSV or Parquet file.",
        epilog="Without a file: kama --demo (a generated price path).",
    )
    p.add_argument("file", nargs="?", type=Path, help="CSV file with a header row, or a .parquet file")
    p.add_argument("--column", default="close", help="price column (default: close)")
    p.add_argument("--period", type=int, default=30, help="efficiency-ratio window (default: 30)")
    p.add_argument("--fast", type=int, default=2, help="fast smoothing period (default: 2)")
    p.add_argument("--slow", type=int, default=30, help="slow smoothing period (default: 30)")
    p.add_argument("--compat", choices=("vectorta", "talib", "tulipy", "pandas_ta"), default="vectorta")
    p.add_argument("--kernel", default=None, help=f"one of {kama.kernels()} (default: the best)")
    p.add_argument("--out", type=Path, help="write the input columns plus the KAMA column here (CSV)")
    p.add_argument("--plot", type=Path, help="draw price and KAMA into this PNG (needs matplotlib)")
    p.add_argument("--plot-last", type=_positive("--plot-last"), metavar="BARS", help="plot only the last BARS bars")
    p.add_argument("--demo", nargs="?", type=_positive("--demo"), const=2000, metavar="BARS",
                   help="use a generated price path of BARS bars (default 2000) instead of a file")
    p.add_argument("--seed", type=int, default=0, help="random seed for --demo")
    p.add_argument("--reader", choices=("auto", "pyarrow", "numpy"), default="auto",
                   help="file parser: pyarrow when installed (CSV and Parquet), else NumPy (CSV)")
    p.add_argument("--keep-order", action="store_true",
                   help="compute in the file's row order even when its time column is not in time order")
    return p


class _Demo(Table):
    """A geometric random walk with a volatility regime change, so KAMA has trends and chop."""

    def __init__(self, bars: int, seed: int):
        rng = np.random.default_rng(seed)
        vol = np.where(np.arange(bars) % 500 < 250, 0.004, 0.015)
        drift = 0.0006 * np.sin(np.arange(bars) / 120.0)
        self.price = 100.0 * np.exp(np.cumsum(drift + vol * rng.standard_normal(bars)))
        self.columns, self.time_name, self.time = ["bar", "close"], None, None

    def key(self, i):
        return str(i)

    def write_csv(self, path, name, values):
        with open(path, "w", newline="", encoding="utf-8") as f:
            f.write(f"bar,close,{name}\n")
            f.writelines(f"{i},{p!r},{'' if v != v else repr(v)}\n"
                         for i, (p, v) in enumerate(zip(self.price.tolist(), values.tolist())))


def _say(text: str) -> None:
    """print() that outlives a closed pipe (`kama --demo | head -1`): the rest goes nowhere."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _check_target(path: Path | None, flag: str) -> None:
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise _Fail(f"{flag} {path} is a folder; give a file name")
    if not folder.is_dir():
        raise _Fail(f"{flag} {path}: no such folder {folder}")
    if not os.access(folder, os.W_OK):
        raise _Fail(f"{flag} {path}: the folder {folder} is not writable")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _time_order(table: Table, keep: bool) -> np.ndarray | None:
    """The order that puts the rows in time order, or None when they are (or --keep-order)."""
    t = table.time
    if t is None or len(t) < 2:
        return None
    later = t[1:] >= t[:-1]
    if bool(np.all(later)):
        return None
    first = int(np.argmin(later)) + 1  # the first data row earlier than the one before it
    if keep:
        _note(f"kama: note: {table.time_name} is not in time order (data row {first + 1} is earlier than "
             f"row {first}); computed in the file's order as --keep-order asks")
        return None
    newest_first = bool(np.all(t[1:] <= t[:-1]))
    order = np.arange(len(t))[::-1].copy() if newest_first else np.argsort(t, kind="stable")
    how = "newest first" if newest_first else f"out of order from data row {first + 1}"
    _note(f"kama: note: {table.time_name} runs {how}: the rows were put in time order, oldest first, before "
         f"computing (--out is written in that order; --keep-order keeps the file's order)")
    return order


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except _Fail as exc:
        print(f"kama: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kama: interrupted", file=sys.stderr)
        return 130


def _main(argv):
    args = _parser().parse_args(argv)
    if args.plot:
        try:
            import matplotlib  # noqa: F401  (only whether it imports)
        except ImportError:
            raise _Fail("--plot needs matplotlib: pip install 'kama[plot]'") from None
    _check_target(args.out, "--out")
    _check_target(args.plot, "--plot")
    for flag, target in (("--out", args.out), ("--plot", args.plot)):
        if target is not None and args.file is not None and _same_file(target, args.file):
            raise _Fail(f"{flag} {target} is the input file; give another name")
    if args.demo is not None:
        if args.file is not None:
            raise _Fail("give a file or --demo, not both")
        table: Table = _Demo(args.demo, args.seed)
        source = f"generated price path ({args.demo} bars, seed {args.seed})"
        if args.column != "close":
            raise _Fail(f"no column {args.column!r} in the generated path; columns are {table.columns}")
    elif args.file is not None:
        try:
            t0 = time.perf_counter()
            table = read(args.file, args.column, args.reader)
            read_s = time.perf_counter() - t0
        except TableError as exc:
            raise _Fail(str(exc)) from None
        except MemoryError:
            raise _Fail(f"{args.file} does not fit in memory") from None
        if len(table) == 0:
            raise _Fail(f"{args.file} has a header but no data rows")
        source = str(args.file)
    else:
        raise _Fail("give a CSV or Parquet file, or --demo (kama --help lists the options)")

    order = _time_order(table, args.keep_order)
    if order is not None:
        table.take(order)

    t0 = time.perf_counter()
    try:
        values = kama.kama(table.price, args.period, args.kernel, fast=args.fast, slow=args.slow,
                           compat=args.compat)
    except (ValueError, TypeError) as exc:
        raise _Fail(str(exc).removeprefix("kama: ")) from None
    elapsed = time.perf_counter() - t0

    name = f"kama_{args.period}"
    params = f"period={args.period}, fast={args.fast}, slow={args.slow}, compat={args.compat!r}"
    # Files first: a reader that closes stdout early (| head) must not cost the results.
    if args.out:
        try:
            table.write_csv(args.out, name, values)
        except OSError as exc:
            raise _Fail(f"--out {args.out}: {exc.strerror or exc}") from None
    if args.plot:
        keep = slice(-args.plot_last if args.plot_last else 0, None)
        try:
            _plot(args.plot, table, keep, values, name, args.column, params, source)
        except OSError as exc:
            raise _Fail(f"--plot {args.plot}: {exc.strerror or exc}") from None

    valid = np.flatnonzero(~np.isnan(values))
    read_note = f", read in {read_s:.2f} s" if args.file is not None else ""
    _say(f"{source}: {len(table)} rows, column {args.column!r}{read_note}")
    _say(f"KAMA({params}) in {elapsed * 1e3:.3f} ms; kernels here: {', '.join(kama.kernels())}")
    if valid.size:
        _say(f"first value at row {valid[0]}; last {min(5, valid.size)} rows:")
        _say(f"  {table.columns[0]:>16} {args.column:>14} {name:>14}")
        for i in range(max(int(valid[0]), len(values) - 5), len(values)):
            _say(f"  {table.key(i):>16} {table.price[i]:14.6f} {values[i]:14.6f}")
    else:
        _say("no value: the series is shorter than one window")
    if args.out:
        _say(f"wrote {args.out}")
    if args.plot:
        _say(f"drew {args.plot}")
    return 0


def _plot(path, table, keep, values, name, column, params, source):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    prices, values = table.price[keep], values[keep]
    x, xlabel = np.arange(len(table.price))[keep], "bar"
    t = table.time
    if t is not None and t.dtype.kind == "M":
        x, xlabel = t[keep], "time (UTC)"
    elif t is not None and t.dtype.kind in "if" and table.time_name.lower().endswith("_ms"):
        x, xlabel = t[keep].astype("int64").astype("datetime64[ms]"), "time (UTC)"
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    ax.plot(x, prices, lw=0.7, color="0.55", label=column)
    ax.plot(x, values, lw=1.4, color="tab:blue", label=name)
    where = Path(source).name if Path(source).exists() else source
    ax.set_title(f"KAMA({params}) of {column}, {where}", fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(column)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
