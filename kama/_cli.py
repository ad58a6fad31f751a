"""python -m kama: KAMA of a price column in a CSV or Parquet file (or of a generated price path).

Every failure is one line on stderr starting with 'kama: error:' and exit status 2, checked
before anything is written."""
from __future__ import annotations

import argparse
import codecs
import io
import os
import signal
import stat
import sys
import tempfile
import time
import warnings
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


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed takes a whole number, got {text!r}") from None
    if not 0 <= value < 2**128:
        raise argparse.ArgumentTypeError(f"--seed takes a number from 0 to 2**128 - 1, got {value}")
    return value


def _target(flag):
    def parse(text):
        if text == "-" and flag == "--out":
            return Path("/dev/stdout")
        if text.endswith(("/", os.sep)) or text in (".", ".."):
            raise argparse.ArgumentTypeError(f"{text!r} is a folder name; give a file name")
        return Path(text)
    return parse


def _encoding(text):
    try:
        info = codecs.lookup(text)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):  # base64, rot13, zlib: not text
        raise argparse.ArgumentTypeError(f"unknown text encoding {text!r} (utf-8, cp1252, latin-1, ...)")
    return info.name


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="kama",
        description="Kaufman's Adaptive Moving Average of a price column in a CSV or Parquet file.",
        epilog="Without a file: kama --demo (a generated price path).",
    )
    p.add_argument("file", nargs="?", type=lambda s: Path("/dev/stdin" if s == "-" else s),
                   help="CSV file with a header row, or a Parquet file; - reads standard input")
    p.add_argument("--column", default="close", help="price column (default: close)")
    p.add_argument("--period", type=int, default=30, help="efficiency-ratio window (default: 30)")
    p.add_argument("--fast", type=int, default=2, help="fast smoothing period (default: 2)")
    p.add_argument("--slow", type=int, default=30, help="slow smoothing period (default: 30)")
    p.add_argument("--compat", choices=("vectorta", "talib", "tulipy", "pandas_ta"), default="vectorta")
    p.add_argument("--kernel", default=None, help=f"one of {kama.kernels()} (default: the best)")
    p.add_argument("--out", type=_target("--out"),
                   help="write the input columns plus the KAMA column here (CSV; - is standard output, and the "
                        "summary then goes to stderr)")
    p.add_argument("--plot", type=_target("--plot"),
                   help="draw price and KAMA into this image, PNG or another suffix matplotlib writes (needs matplotlib)")
    p.add_argument("--plot-last", type=_positive("--plot-last"), metavar="BARS", help="plot only the last BARS bars")
    p.add_argument("--demo", nargs="?", type=_positive("--demo"), const=2000, metavar="BARS",
                   help="use a generated price path of BARS bars (default 2000) instead of a file")
    p.add_argument("--seed", type=_seed, default=0, help="random seed for --demo")
    p.add_argument("--reader", choices=("auto", "pyarrow", "numpy"), default="auto",
                   help="file parser: pyarrow when installed (CSV and Parquet), else NumPy (CSV)")
    p.add_argument("--encoding", type=_encoding, default="utf-8",
                   help="the CSV's text encoding (default: utf-8; cp1252 for Excel on Windows); --out is UTF-8")
    p.add_argument("--keep-order", action="store_true",
                   help="compute in the file's row order even when its time column is not in time order")
    p.add_argument("--version", action="version", version=f"kama {kama.__version__}")
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

    def writable(self):
        return None

    def write_csv(self, file, name, values):
        file.write(f"bar,close,{name}\n".encode())
        file.write("".join(f"{i},{p!r},{'' if v != v else repr(v)}\n"
                           for i, (p, v) in enumerate(zip(self.price.tolist(), values.tolist()))).encode())


_summary = sys.stdout  # sys.stderr when --out is standard output


def _say(text: str) -> None:
    """print() that outlives a closed pipe (`kama --demo | head -1`): the rest goes nowhere. Any
    other failure to write (a full disk, >/dev/full) is an error."""
    try:
        print(text, file=_summary, flush=True)
    except BrokenPipeError:
        _stdout_to_devnull()
    except OSError as exc:
        _stdout_to_devnull()
        raise _Fail(f"cannot write the summary to standard output: {exc.strerror or exc}") from None


def _stdout_to_devnull() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _is_stdout(path: Path) -> bool:
    """--out - (or a name of standard output itself)."""
    return str(path) in ("/dev/stdout", "/proc/self/fd/1", "/dev/fd/1") and hasattr(sys.stdout, "buffer")


def _check_target(path: Path | None, flag: str) -> None:
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise _Fail(f"{flag} {path} is a folder; give a file name")
    if not folder.is_dir():
        raise _Fail(f"{flag} {path}: no such folder {folder}")
    if not os.access(folder, os.W_OK) and not (path.exists() and os.access(path, os.W_OK)):
        raise _Fail(f"{flag} {path}: the folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise _Fail(f"{flag} {path}: the file is not writable")


# Image formats --plot writes: matplotlib's own, less those that need more than matplotlib
# (pgf needs LaTeX) or are no image file (raw, rgba).
PLOT_FORMATS = ("png", "svg", "svgz", "pdf", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp", "gif", "avif")


def _plot_format(path: Path) -> str:
    """The image format the --plot file's suffix names, checked up front."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    formats = [f for f in PLOT_FORMATS if f in supported]
    suffix = path.suffix.lower().lstrip(".")
    if not suffix:
        return "png"
    if suffix not in formats:
        raise _Fail(f"--plot {path}: kama cannot draw .{suffix} images; use one of "
                    f"{', '.join('.' + f for f in formats)}")
    return suffix


def _in_place(path: Path) -> bool:
    """Whether a file is written where it is, not through a temporary file and a rename: a
    device, FIFO or /proc entry (/dev/null, /dev/fd/3), a file with other hard links, or a
    writable file in a folder kama cannot create files in."""
    if os.path.abspath(path).startswith(("/proc/", "/dev/fd/")):
        return True
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    folder = os.path.dirname(os.path.realpath(path)) or "."
    return not stat.S_ISREG(st.st_mode) or st.st_nlink > 1 or not os.access(folder, os.W_OK | os.X_OK)


def _write(path: Path, flag: str, fill) -> None:
    """Write a file with fill(binary file) so that a failure or Ctrl-C never leaves a part of it:
    into a temporary file beside it (beside the file a symlink names), renamed over it when
    whole. What _in_place names is written in place."""
    try:
        if _is_stdout(path):  # the process's own stdout, not opened again (>> keeps its offset)
            try:
                sys.stdout.flush()
                fill(sys.stdout.buffer)
                sys.stdout.buffer.flush()
            except BrokenPipeError:  # --out - | head: the reader has what it wanted
                _stdout_to_devnull()
            return
        if _in_place(path):
            with open(path, "wb") as f:
                fill(f)
            return
        real = Path(os.path.realpath(path))
        fd, tmp = tempfile.mkstemp(prefix=".kama-", suffix=".part", dir=real.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                fill(f)
            if real.exists():  # keep the mode of the file replaced
                os.chmod(tmp, stat.S_IMODE(os.stat(real).st_mode))
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, real)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError as exc:
        raise _Fail(f"{flag} {path}: {exc.strerror or exc}") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _time_order(table: Table, keep: bool) -> np.ndarray | None:
    """The order that puts the rows in time order, or None when they are (or --keep-order, or
    the order cannot be told)."""
    t, name = table.time, table.time_name
    if t is None:
        if name is not None and table.time_reason and not keep:
            _note(f"kama: note: the time order was not checked: the time column {name!r} {table.time_reason}; "
                  f"computed in the file's order")
        return None
    if len(t) < 2:
        return None
    missing = np.isnat(t) if t.dtype.kind == "M" else np.isnan(t) if t.dtype.kind == "f" else None
    rows = np.arange(len(t))
    if missing is not None and missing.any():
        rows, t = rows[~missing], t[~missing]
    later = t[1:] >= t[:-1]
    if bool(np.all(later)):
        return None
    first = int(rows[int(np.argmin(later)) + 1])  # the first data row earlier than the one before it
    if keep:
        _note(f"kama: note: {name} is not in time order (data row {first + 1} is earlier than an earlier "
              f"row); computed in the file's order as --keep-order asks")
        return None
    if len(rows) < len(table):
        gaps = len(table) - len(rows)
        blank = int(np.flatnonzero(missing)[0]) + 1
        raise _Fail(f"{name} is not in time order (data row {first + 1} is earlier than an earlier row) and "
                    f"{gaps} row{'s have' if gaps > 1 else ' has'} no time (first: data row {blank}), so kama "
                    f"cannot put the rows in time order; fill in the times, or pass --keep-order to compute "
                    f"in the file's order")
    newest_first = bool(np.all(t[1:] <= t[:-1]))
    # Newest first: turned over whole (rows with equal times, such as the hours beside a date
    # column, were newest first too). Otherwise a stable sort, unless times repeat.
    order = rows[::-1].copy() if newest_first else np.argsort(t, kind="stable")
    if not newest_first and bool(np.any(t[order][1:] == t[order][:-1])):
        # Repeats in a column out of order: a time of day beside a date column, or several
        # series one after another. Sorting would interleave them.
        _note(f"kama: note: {name} is not in time order (from data row {first + 1}) and repeats its values "
              f"(a time of day beside a date? several series in one file?), so kama cannot tell the order: "
              f"computed in the file's order")
        return None
    how = "newest first" if newest_first else f"out of order from data row {first + 1}"
    _note(f"kama: note: {name} runs {how}: the rows were put in time order, oldest first, before "
          f"computing (--out is written in that order; --keep-order keeps the file's order)")
    return order


def _terminated(signum, frame):
    raise _Terminated


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C so that a file being written is removed."""


def main(argv: list[str] | None = None) -> int:
    global _summary
    _summary = sys.stdout
    try:
        previous = signal.signal(signal.SIGTERM, _terminated)
    except ValueError:  # not the main thread
        previous = None
    try:
        return _main(argv)
    except _Fail as exc:
        print(f"kama: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # what no check above foresaw (a name too long, a vanished folder)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"kama: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kama: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("kama: terminated", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv):
    global _summary
    args = _parser().parse_args(argv)
    if args.out is not None and _is_stdout(args.out):
        _summary = sys.stderr  # the CSV has standard output to itself
    _check_target(args.out, "--out")
    _check_target(args.plot, "--plot")
    if args.plot:
        try:
            import matplotlib  # noqa: F401  (only whether it imports)
        except ImportError:
            raise _Fail("--plot needs matplotlib: pip install 'kama[plot]'") from None
        plot_format = _plot_format(args.plot)
    for flag, target in (("--out", args.out), ("--plot", args.plot)):
        if target is not None and args.file is not None and _same_file(target, args.file):
            raise _Fail(f"{flag} {target} is the input file; give another name")
    if args.out and args.plot and _same_file(args.out, args.plot):
        raise _Fail(f"--out and --plot both name {args.out}; give two files")
    if args.demo is not None:
        if args.file is not None:
            raise _Fail("give a file or --demo, not both")
        try:
            table: Table = _Demo(args.demo, args.seed)
        except (MemoryError, ValueError):
            raise _Fail(f"--demo {args.demo}: a path of {args.demo} bars does not fit in memory") from None
        source = f"generated price path ({args.demo} bars, seed {args.seed})"
        if args.column != "close":
            raise _Fail(f"no column {args.column!r} in the generated path; columns are {table.columns}")
    elif args.file is not None:
        try:
            t0 = time.perf_counter()
            table = read(args.file, args.column, args.reader, args.encoding)
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
    if args.out:
        why = table.writable()
        if why:
            raise _Fail(f"--out {args.out}: {why} (run without --out, or drop that column)")

    order = _time_order(table, args.keep_order)
    if order is not None:
        table.take(order)
    if args.fast > args.slow:
        _note(f"kama: note: --fast {args.fast} is slower than --slow {args.slow}: the smoothing constant then "
              f"shrinks as the trend strengthens")
    infinite = np.flatnonzero(np.isinf(table.price))
    if infinite.size:
        _note(f"kama: note: {infinite.size} price{'s are' if infinite.size > 1 else ' is'} infinite (first: data "
              f"row {infinite[0] + 1}); KAMA is NaN from there on")

    t0 = time.perf_counter()
    try:
        values = kama.kama(table.price, args.period, args.kernel, fast=args.fast, slow=args.slow,
                           compat=args.compat)
    except (ValueError, TypeError) as exc:
        what = source if args.demo is not None else f"{source}, column {args.column!r}"
        raise _Fail(f"{what}: {str(exc).removeprefix('kama: ')}") from None
    except MemoryError:
        raise _Fail(f"{source}: the KAMA of {len(table)} rows does not fit in memory") from None
    elapsed = time.perf_counter() - t0

    name = f"kama_{args.period}"
    params = f"period={args.period}, fast={args.fast}, slow={args.slow}, compat={args.compat!r}"
    image = None
    if args.plot:  # drawn in memory first: a plot that fails leaves no --out either
        keep = slice(-args.plot_last if args.plot_last else 0, None)
        image = io.BytesIO()
        try:
            _plot(image, plot_format, table, keep, values, name, args.column, params, source)
        except Exception as exc:  # noqa: BLE001 - matplotlib's errors are many; each is one line here
            text = str(exc).splitlines()[0] if str(exc) else ""
            raise _Fail(f"--plot {args.plot}: {type(exc).__name__}: {text}") from None
    # Files first: a reader that closes stdout early (| head) must not cost the results.
    if args.out:
        _write(args.out, "--out", lambda f: table.write_csv(f, name, values))
    if image is not None:
        _write(args.plot, "--plot", lambda f: f.write(image.getvalue()))

    valid = np.flatnonzero(~np.isnan(values))
    read_note = f", read in {read_s:.2f} s" if args.file is not None else ""
    _say(f"{source}: {len(table)} rows, column {args.column!r}{read_note}")
    _say(f"KAMA({params}) in {elapsed * 1e3:.3f} ms; kernels here: {', '.join(kama.kernels())}")
    if valid.size:
        last = valid[-5:]
        _say(f"first value at data row {valid[0] + 1}; last {last.size} rows with a value:")
        _say(f"  {table.columns[0]:>16} {args.column:>14} {name:>14}")
        for i in last.tolist():
            _say(f"  {table.key(i):>16} {table.price[i]:14.6f} {values[i]:14.6f}")
    else:
        _say("no value: the series is shorter than one window")
    if args.out:
        _say(f"wrote {args.out}")
    if args.plot:
        _say(f"drew {args.plot}")
    return 0


def _plot(file, fmt, table, keep, values, name, column, params, source):
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
    try:
        with warnings.catch_warnings():  # PostScript's "no transparency" and the like
            warnings.simplefilter("ignore")
            fig.savefig(file, format=fmt)
    finally:
        plt.close(fig)
