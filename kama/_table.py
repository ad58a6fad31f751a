"""The CLI's input files: CSV or Parquet, read by pyarrow when it is installed (`kama[io]`), CSV
by NumPy otherwise. A table gives the price column as float64, the time column if it has one,
and writes itself back with a KAMA column; every problem is a TableError with a one-line
message."""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import numpy as np

# Text that means a missing price (NaN), as pandas reads it.
NULLS = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "none", "-")
# Column names taken for the time column (case-insensitive), in this order.
TIME_NAMES = ("timestamp_ms", "timestamp", "time", "datetime", "date", "ts")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
PROGRESS_FROM = 64 << 20  # files from this size may show a progress bar (after 1.5 s of reading)


class TableError(Exception):
    """A file kama cannot compute on: the message is the whole explanation."""


def _progress(path: Path, size: int):
    """A tqdm bar over the file's bytes, shown only once reading takes 1.5 s; None without tqdm."""
    if size < PROGRESS_FROM:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    # disable=None: no bar when stderr is not a terminal
    bar = tqdm(total=size, unit="B", unit_scale=True, delay=1.5, desc=f"reading {path.name}", leave=False,
               disable=None)
    if bar.disable:
        bar.close()
        return None
    return bar


class _Counting(io.RawIOBase):
    """A binary file that moves a progress bar as it is read."""

    def __init__(self, raw, bar):
        self._raw, self._bar = raw, bar

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self._raw.readinto(buffer)
        if n:
            self._bar.update(n)
        return n

    def close(self):
        self._raw.close()
        super().close()


def _open_binary(path: Path):
    raw = open(path, "rb", buffering=0)
    bar = _progress(path, os.fstat(raw.fileno()).st_size)
    if bar is None:
        return io.BufferedReader(raw, 1 << 20), None
    return io.BufferedReader(_Counting(raw, bar), 1 << 20), bar


def pyarrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return False
    return True


def _no_column(column: str, columns: list[str], source) -> TableError:
    message = f"no column {column!r} in {source}; columns are {columns}"
    if len(columns) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in columns[0]:
                message += f" (its fields look separated by {name}; kama reads comma-separated files)"
                break
    return TableError(message)


def _time_column(names: list[str]) -> str | None:
    lower = {n.lower(): n for n in names}
    for candidate in TIME_NAMES:
        if candidate in lower:
            return lower[candidate]
    return None


class Table:
    """columns, rows, price (float64), time (int64 or datetime64, or None), key (first column
    as text, for the summary), take(order), write_csv(path, name, values)."""

    columns: list[str]
    time_name: str | None
    price: np.ndarray
    time: np.ndarray | None

    def __len__(self) -> int:
        return len(self.price)


class ArrowTable(Table):
    def __init__(self, table, column: str, source: str):
        import pyarrow as pa
        import pyarrow.compute as pc

        self._pa, self._pc = pa, pc
        self.columns = list(table.column_names)
        if column not in self.columns:
            raise _no_column(column, self.columns, source)
        self.table = table
        self.price = _arrow_prices(table.column(column), column, source)
        self.time_name = _time_column(self.columns)
        self.time = None
        if self.time_name is not None:
            self.time = _arrow_time(table.column(self.time_name))
            if self.time is None:
                self.time_name = None

    def key(self, i: int) -> str:
        value = self.table.column(0)[i].as_py()
        return "" if value is None else str(value)

    def take(self, order: np.ndarray) -> None:
        self.table = self.table.take(self._pa.array(order))
        self.price = self.price[order]
        if self.time is not None:
            self.time = self.time[order]

    def write_csv(self, path: Path, name: str, values: np.ndarray) -> None:
        import pyarrow.csv as pacsv

        kama_col = self._pa.array(values, from_pandas=True)  # NaN -> null -> an empty field
        out = self.table.append_column(name, kama_col)
        try:  # polars writes CSV on every core: 10M rows in ~3 s against pyarrow's ~7 s here
            import polars as pl
        except ImportError:
            pl = None
        if pl is not None:
            pl.from_arrow(out).write_csv(path)
            return
        with open(path, "w", newline="", encoding="utf-8") as f:  # the header as it was, unquoted
            csv.writer(f, lineterminator="\n").writerow(out.column_names)
        with open(path, "ab") as f:
            pacsv.write_csv(out, f, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))


def _arrow_prices(col, column: str, source: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_null(t):
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = pc.utf8_trim_whitespace(col)
        missing = pc.is_in(text, value_set=pa.array(NULLS))
        cleaned = pc.if_else(missing, None, text)
        try:
            return cleaned.cast(pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        values = cleaned.to_pylist()  # only on the way to the error: find the row
        for i, v in enumerate(values):
            if v is None:
                continue
            try:
                float(v)
            except ValueError:
                line = "" if str(source).lower().endswith(PARQUET_SUFFIXES) else f" (line {i + 2})"
                raise TableError(f"column {column!r} of {source} is not numeric: data row {i + 1}"
                                 f"{line} holds {v!r}") from None
        raise TableError(f"column {column!r} of {source} is not numeric")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        raise TableError(f"column {column!r} of {source} is not UTF-8 text (save the file as UTF-8)")
    raise TableError(f"column {column!r} of {source} holds {t}, not prices")


def _arrow_time(col) -> np.ndarray | None:
    import pyarrow as pa

    t = col.type
    if col.null_count:
        return None
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return col.to_numpy(zero_copy_only=False)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return col.cast(pa.timestamp("ms")).to_numpy(zero_copy_only=False).astype("datetime64[ms]")
    if pa.types.is_string(t) or pa.types.is_large_string(t):  # ISO dates sort as text
        return np.asarray(col.to_pylist(), dtype=object)
    return None


def _skip_blank_rows(row) -> str:
    """pyarrow skips empty lines itself; a line of spaces is a short row to it: skip that too."""
    return "skip" if not (row.text or "").strip() else "error"


def _read_arrow_csv(path: Path, column: str):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    stream, bar = _open_binary(path)
    if bar is None:  # no bar to move: pyarrow's own reader, on every core
        stream.close()
        stream = pa.input_stream(str(path))
    try:
        return pacsv.read_csv(
            stream,
            parse_options=pacsv.ParseOptions(invalid_row_handler=_skip_blank_rows),
            convert_options=pacsv.ConvertOptions(null_values=list(NULLS), strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        first = str(exc).splitlines()[0] if str(exc) else "unreadable"
        if "Empty CSV file" in first:
            raise TableError(f"{path} is empty") from None
        raise TableError(f"{path} is not a CSV file kama can read: {first}") from None
    finally:
        if bar is not None:
            bar.close()
        stream.close()


def _read_parquet(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TableError("reading Parquet needs pyarrow: pip install 'kama[io]'") from None
    import pyarrow as pa

    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TableError(f"{path} is not a Parquet file kama can read: {str(exc).splitlines()[0]}") from None


class NumpyTable(Table):
    """The fallback without pyarrow: the header by the csv module, the price (and time) column by
    NumPy's C parser (np.loadtxt; a row-by-row pass only for missing values or to name a bad
    row), and the lines kept as text so that --out repeats them as they were."""

    def __init__(self, path: Path, column: str):
        stream, bar = _open_binary(path)
        try:
            with io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") as text_stream:
                text = text_stream.read()
        except UnicodeDecodeError as exc:
            raise TableError(f"{path} is not UTF-8 text: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
            stream.close()
        lines = text.splitlines()
        del text
        if any(not line.strip() for line in lines):
            lines = [line for line in lines if line.strip()]
        if not lines:
            raise TableError(f"{path} is empty")
        self.columns = [c.strip() for c in next(csv.reader([lines[0]]))]
        if column not in self.columns:
            raise _no_column(column, self.columns, path)
        self.header, self.lines = lines[0], lines[1:]
        col = self.columns.index(column)
        try:
            self.price = self._column(col, np.float64)
        except ValueError:
            self.price = np.array([_numpy_float(r, col, i, column, path)
                                   for i, r in enumerate(csv.reader(self.lines))], dtype=np.float64)
        self.time_name = _time_column(self.columns)
        self.time = None
        if self.time_name is not None:
            t = self.columns.index(self.time_name)
            try:
                self.time = self._column(t, np.float64)
            except ValueError:
                rows = list(csv.reader(self.lines))
                if all(t < len(r) and r[t].strip() for r in rows):
                    self.time = np.array([r[t].strip() for r in rows], dtype=object)  # ISO dates sort as text
                else:
                    self.time_name = None

    def _column(self, index: int, dtype) -> np.ndarray:
        if not self.lines:
            return np.empty(0, dtype=dtype)
        return np.loadtxt(self.lines, delimiter=",", usecols=index, dtype=dtype, quotechar='"', ndmin=1,
                          comments=None)

    def key(self, i: int) -> str:
        row = next(csv.reader([self.lines[i]]))
        return row[0] if row else ""

    def take(self, order: np.ndarray) -> None:
        self.lines = [self.lines[i] for i in order.tolist()]
        self.price = self.price[order]
        if self.time is not None:
            self.time = self.time[order]

    def write_csv(self, path: Path, name: str, values: np.ndarray) -> None:
        with open(path, "w", newline="", encoding="utf-8") as f:
            f.write(f"{self.header},{name}\n")
            f.writelines(f"{line},\n" if v != v else f"{line},{v!r}\n" for line, v in zip(self.lines, values.tolist()))


def _numpy_float(row: list[str], col: int, i: int, column: str, path: Path) -> float:
    if col >= len(row):
        raise TableError(f"data row {i + 1} (line {i + 2}) of {path} has {len(row)} fields, "
                         f"no {column!r}")
    text = row[col].strip()
    if text in NULLS:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise TableError(f"column {column!r} of {path} is not numeric: data row {i + 1} "
                         f"(line {i + 2}) holds {row[col]!r}") from None


def read(path: Path, column: str, reader: str = "auto") -> Table:
    """The table of a CSV or Parquet file. reader: 'auto' (pyarrow when installed, else NumPy),
    'pyarrow' or 'numpy' (CSV only)."""
    if not path.exists():
        raise TableError(f"no such file: {path} (without a file, try --demo)")
    if path.is_dir():
        raise TableError(f"{path} is a folder, not a file")
    parquet = path.suffix.lower() in PARQUET_SUFFIXES
    if reader == "auto":
        reader = "pyarrow" if pyarrow_available() else "numpy"
    if reader == "pyarrow" and not pyarrow_available():
        raise TableError("--reader pyarrow needs pyarrow: pip install 'kama[io]'")
    if parquet:
        if reader == "numpy":
            raise TableError("reading Parquet needs pyarrow (pip install 'kama[io]'); NumPy reads CSV only")
        table = _read_parquet(path)
    elif reader == "numpy":
        return NumpyTable(path, column)
    else:
        table = _read_arrow_csv(path, column)
    return ArrowTable(table, column, str(path))
