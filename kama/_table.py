"""The CLI's input files: CSV or Parquet, read by pyarrow when it is installed (`kama[io]`), CSV
by NumPy otherwise. A table gives the price column as float64, the time column if it has one,
and writes itself back with a KAMA column; every problem is a TableError with a one-line
message."""
from __future__ import annotations

import bz2
import csv
import datetime as _dt
import gzip
import io
import lzma
import math
import re
import os
import stat
import warnings
import zlib
from pathlib import Path

import numpy as np

# Text that means a missing price (NaN), as pandas reads it.
NULLS = ("", "NA", "N/A", "n/a", "#N/A", "NaN", "nan", "NaT", "NULL", "null", "None", "none", "-")
# Column names taken for the time column (case-insensitive), in this order.
TIME_NAMES = ("timestamp_ms", "timestamp", "time", "datetime", "date", "ts")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
PROGRESS_FROM = 64 << 20  # files from this size may show a progress bar (after 1.5 s of reading)
# Compressed CSV, by suffix or by the file's first bytes (both readers).
DECOMPRESS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
MAGIC = {b"\x1f\x8b": gzip.open, b"\xfd7zXZ\x00": lzma.open,
         **{b"BZh" + bytes([d]): bz2.open for d in b"123456789"}}  # bzip2's block size follows its BZh
# What reading a damaged or vanished file raises.
READ_ERRORS = (OSError, EOFError, lzma.LZMAError, zlib.error)
# Time texts other than ISO 8601 that the time column may hold. A column must read whole with
# one of them; when month/day and day/month both read it and disagree on the order, it is
# ambiguous and refused.
TIME_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M:%S", "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%d.%m.%Y",
                "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y%m%d", "%d-%b-%Y", "%b %d %Y", "%b %d, %Y")


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


def _decompressor(path: Path):
    opener = DECOMPRESS.get(path.suffix.lower())
    if opener is None and _regular(path):
        try:
            with open(path, "rb") as f:
                head = f.read(6)
        except OSError:
            return None
        opener = _by_magic(head)
    return opener


def _by_magic(head: bytes):
    return next((o for magic, o in MAGIC.items() if head.startswith(magic)), None)


def _regular(path: Path) -> bool:
    """A file on disk, not a pipe, FIFO or terminal (/dev/stdin, <(...)): those are read once,
    front to back."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _open_binary(path: Path):
    """(binary stream of the file's bytes, decompressed by suffix; its progress bar or None)."""
    raw = open(path, "rb", buffering=0)
    st = os.fstat(raw.fileno())
    bar = _progress(path, st.st_size) if stat.S_ISREG(st.st_mode) else None
    stream = io.BufferedReader(raw if bar is None else _Counting(raw, bar), 1 << 20)
    opener = _decompressor(path)
    return (stream if opener is None else _Decompressed(opener(stream), stream)), bar


class _Decompressed(io.BufferedIOBase):
    """A decompressing reader that also closes the file under it (gzip.open(fileobj) does not)."""

    def __init__(self, outer, inner):
        self._outer, self._inner = outer, inner

    def readable(self):
        return True

    def read(self, size=-1):
        return self._outer.read(size)

    def read1(self, size=-1):
        return self._outer.read1(size)

    def readinto(self, buffer):
        return self._outer.readinto(buffer)

    def close(self):
        try:
            self._outer.close()
        finally:
            self._inner.close()
            super().close()


def _not_text(path: Path, encoding: str, exc) -> "TableError":
    where = f" (byte {exc.start} of the header)" if isinstance(exc, UnicodeDecodeError) else ""
    hint = " or pass --encoding (cp1252 for Excel on Windows, latin-1)" if _utf8(encoding) else ""
    shown = "UTF-8" if _utf8(encoding) else encoding
    return TableError(f"{path} is not {shown} text{where}: save it as UTF-8{hint}")


def _utf8(encoding: str) -> bool:
    return encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def _header_names(head: bytes, path: Path, encoding: str) -> list[str]:
    """The header's fields as written (spaces kept), from the file's first bytes."""
    for line in head.splitlines():
        if line.strip():
            try:
                text = line.decode("utf-8-sig" if _utf8(encoding) else encoding)
            except UnicodeDecodeError as exc:
                raise _not_text(path, encoding, exc) from None
            return next(csv.reader([text]), [])
    return []


def _longest_line(head: bytes) -> int:
    return max((len(line) for line in head.split(b"\n")), default=0)


def _head(path: Path, limit: int = 1 << 20) -> bytes:
    """The file's bytes up to the end of its first non-blank line (or `limit`)."""
    opener = _decompressor(path)
    with (open(path, "rb") if opener is None else opener(path, "rb")) as f:
        head = b""
        while len(head) < limit:
            chunk = f.read(1 << 16)
            if not chunk:
                break
            head += chunk
            if b"\n" in head.lstrip():
                break
        return head


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


def is_number(text: str) -> bool:
    """A price as both readers take it: ASCII, float()'s syntax without '_' separators."""
    if not text.isascii() or "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _missing_text(v) -> bool:
    return v is None or v.strip() in NULLS


def text_times(values: list) -> tuple[np.ndarray | None, str | None]:
    """A time column given as text (None or a null text where missing), as numbers or
    datetime64 (NaN/NaT where missing), with the same rules for every reader: numbers; ISO 8601,
    UTC offsets converted to UTC (a column mixing times with and without offsets is refused);
    else one of TIME_FORMATS for the whole column. (None, why) when it cannot be read as times."""
    texts = [None if _missing_text(v) else v.strip() for v in values]
    present = [v for v in texts if v is not None]
    if not present:
        return None, "has no values"
    for kind in (np.int64, np.float64):
        try:
            numbers = np.array(present, dtype=kind)
        except (ValueError, OverflowError):
            continue
        return _fill(texts, numbers, np.float64 if len(present) < len(texts) else kind), None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns, then drops, a UTC offset
        try:
            if any(v.lower() in ("today", "now") for v in present):  # numpy reads these as the clock
                raise ValueError
            times = _iso_times(present)
            return _fill(texts, times, times.dtype), None
        except (ValueError, UserWarning, DeprecationWarning, OverflowError):
            pass
    iso, aware = [], set()
    for v in present:
        try:
            d = _dt.datetime.fromisoformat(v[:-1] + "+00:00" if v[-1:] in "Zz" else v)  # 'Z': Python < 3.11
        except ValueError:
            iso = None
            break
        aware.add(d.tzinfo is not None)
        iso.append(d.astimezone(_dt.timezone.utc).replace(tzinfo=None) if d.tzinfo else d)
    if iso is not None:
        if len(aware) > 1:
            return None, "mixes times with and without a UTC offset"
        return _fill(texts, np.array(iso, dtype="datetime64[us]"), "datetime64[us]"), None
    readings = []
    for fmt in TIME_FORMATS:
        try:
            readings.append((fmt, np.array([_dt.datetime.strptime(v, fmt) for v in present], dtype="datetime64[us]")))
        except ValueError:
            continue
    if not readings:
        return None, f"holds {_first_unreadable(present)!r}, which kama does not read as a time"
    fmt, first = readings[0]
    for other, reading in readings[1:]:
        if not np.array_equal(np.argsort(first, kind="stable"), np.argsort(reading, kind="stable")):
            return None, f"is ambiguous: {present[0]!r} reads as both {fmt} and {other}, in different orders"
    return _fill(texts, first, "datetime64[us]"), None


def _first_unreadable(present: list[str]) -> str:
    for v in present:
        try:
            float(v)
            continue
        except ValueError:
            pass
        try:
            _dt.datetime.fromisoformat(v[:-1] + "+00:00" if v[-1:] in "Zz" else v)
        except ValueError:
            return v
    return present[0]


def _iso_times(present: list[str]) -> np.ndarray:
    """ISO texts as datetime64: nanoseconds when every time fits them (1678-2261), else
    microseconds (NumPy wraps nanoseconds past that range without a word)."""
    micro = np.array(present, dtype="datetime64[us]")
    nano = np.array(present, dtype="datetime64[ns]")
    return nano if np.array_equal(nano.astype("datetime64[us]"), micro) else micro


def _fill(texts: list, present: np.ndarray, dtype) -> np.ndarray:
    if len(present) == len(texts):
        return present.astype(dtype, copy=False)
    out = np.full(len(texts), np.datetime64("NaT") if np.dtype(dtype).kind == "M" else np.nan, dtype=dtype)
    out[[i for i, v in enumerate(texts) if v is not None]] = present
    return out


class Table:
    """columns, rows, price (float64), time (int64, float64 or datetime64 with NaN/NaT where
    missing, or None; time_reason says why None when the column exists), key (first column as
    text, for the summary), take(order), write_csv(path, name, values)."""

    columns: list[str]
    time_name: str | None
    time_reason: str | None = None
    price: np.ndarray
    time: np.ndarray | None

    def __len__(self) -> int:
        return len(self.price)


class ArrowTable(Table):
    def __init__(self, table, column: str, source: str, lines=None):
        """lines: None for Parquet, else a function giving the CSV's non-blank lines (for errors)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        self._pa, self._pc = pa, pc
        self.columns = [str(c).strip() for c in table.column_names]
        if column not in self.columns:
            raise _no_column(column, self.columns, source)
        if self.columns.count(column) > 1:
            raise TableError(f"{source} has {self.columns.count(column)} columns named {column!r}; rename all "
                             f"but one")
        self.table = table
        self.price = _arrow_prices(table.column(self.columns.index(column)), column, source, lines)
        self.time_name = _time_column(self.columns)
        self.time = None
        if self.time_name is not None:
            self.time, self.time_reason = _arrow_time(table.column(self.columns.index(self.time_name)))

    def key(self, i: int) -> str:
        scalar = self.table.column(0)[i]
        try:
            value = scalar.as_py()
        except (OverflowError, ValueError):  # a timestamp past Python's year 9999
            return str(scalar)
        return "" if value is None else str(value)

    def take(self, order: np.ndarray) -> None:
        self.table = self.table.take(self._pa.array(order))
        self.price = self.price[order]
        if self.time is not None:
            self.time = self.time[order]

    def writable(self) -> str | None:
        """Why --out cannot hold this table's columns, or None."""
        pa = self._pa
        for name, col in zip(self.columns, self.table.columns):
            t = col.type
            if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
                return f"column {name!r} holds bytes, which a CSV cannot hold"
            if pa.types.is_nested(t) or pa.types.is_dictionary(t) and pa.types.is_nested(t.value_type):
                return f"column {name!r} holds {t}, which a CSV cannot hold"
        return None

    def write_csv(self, file, name: str, values: np.ndarray) -> None:
        """Into a binary file open for writing: the columns as read (a CSV's text as it was)
        plus the KAMA column."""
        import pyarrow.csv as pacsv

        kama_col = self._pa.array(values, from_pandas=True)  # NaN -> null -> an empty field
        out = self.table.rename_columns(self.columns).append_column(name, kama_col)
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(out.column_names)  # quoted only where needed
        file.write(header.getvalue().encode("utf-8"))
        out = out.rename_columns([f"c{i}" for i in range(out.num_columns)])  # names may repeat
        pa, pc = self._pa, self._pc
        try:
            import polars as pl
        except ImportError:
            pl = None

        def minimal():  # quotes only where a value needs them
            if pl is not None:
                pl.from_arrow(out).write_csv(file, include_header=False)
            else:  # pyarrow's "needed" quotes every text value
                pacsv.write_csv(out, file, write_options=pacsv.WriteOptions(include_header=False,
                                                                            quoting_style="needed"))

        if not all(pa.types.is_string(c.type) for c in self.table.columns):
            if any(pa.types.is_duration(c.type) or pa.types.is_interval(c.type) for c in out.columns):
                pl = None  # polars writes no durations to CSV; pyarrow writes their counts
            minimal()  # Parquet's typed columns: polars formats them on every core (~3x pyarrow's speed)
            return
        # A CSV's columns are text as read, written fastest by pyarrow unquoted; it finds a value
        # that must be quoted only while writing, so a regular file is rewound and written again
        # and a pipe is checked first.
        unquoted = pacsv.WriteOptions(include_header=False, quoting_style="none")
        if not file.seekable():
            if any(pc.any(pc.match_substring_regex(c, '[,"\r\n]')).as_py() for c in out.columns
                   if pa.types.is_string(c.type)):
                minimal()
            else:
                pacsv.write_csv(out, file, write_options=unquoted)
            return
        start = file.tell()
        try:
            pacsv.write_csv(out, file, write_options=unquoted)
        except pa.ArrowInvalid:
            file.seek(start)
            file.truncate()
            minimal()


def _arrow_prices(col, column: str, source: str, lines=None) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_dictionary(t):
        col, t = col.cast(t.value_type), t.value_type
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
            if v is not None and not is_number(v):
                at = lines(i + 1) if lines is not None else None
                line = f" (line {at[0]})" if at else ""
                raise TableError(f"column {column!r} of {source} is not numeric: data row {i + 1}"
                                 f"{line} holds {v!r}") from None
        raise TableError(f"column {column!r} of {source} is not numeric")
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        raise TableError(f"column {column!r} of {source} is not UTF-8 text (save the file as UTF-8)")
    raise TableError(f"column {column!r} of {source} holds {t}, not prices")


def _arrow_time(col) -> tuple[np.ndarray | None, str | None]:
    """The time column as numbers or datetime64 (NaN/NaT where missing), or (None, why)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_dictionary(t):
        col, t = col.cast(t.value_type), t.value_type
    if pa.types.is_integer(t):
        return col.to_numpy(zero_copy_only=False).astype(np.float64 if col.null_count else np.int64, copy=False), None
    if pa.types.is_floating(t):
        return col.cast(pa.float64()).to_numpy(zero_copy_only=False), None
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        if pa.types.is_date(t):
            col = col.cast(pa.date32())
        values = col.to_numpy(zero_copy_only=False)  # datetime64 in its own unit (UTC), NaT where null
        return np.asarray(values, dtype=values.dtype if values.dtype.kind == "M" else "datetime64[ns]"), None
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        text = pc.utf8_trim_whitespace(col)
        cleaned = pc.if_else(pc.is_in(text, value_set=pa.array(NULLS)), None, text)
        if cleaned.null_count < len(cleaned):
            # fast paths; nanoseconds raise past 2262, then microseconds
            for target in (pa.int64(), pa.float64(), pa.timestamp("ns"), pa.timestamp("us")):
                try:
                    got = cleaned.cast(target)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    continue
                if pa.types.is_int64(target):
                    if got.null_count:
                        continue  # as floats, with NaN
                    return got.to_numpy(zero_copy_only=False), None
                values = got.to_numpy(zero_copy_only=False)
                return np.asarray(values, dtype=values.dtype if values.dtype.kind == "M" else np.float64), None
        return text_times(cleaned.to_pylist())  # offsets, other formats: the shared rules
    return None, f"holds {t}"


class _RowCheck:
    """pyarrow's invalid-row handler: a line of spaces is a short row to it, so skip that; any
    other row with the wrong number of fields is kept for the error message."""

    def __init__(self):
        self.bad = None

    def __call__(self, row) -> str:
        if not (row.text or "").strip():
            return "skip"
        if self.bad is None:
            self.bad = row
        return "error"


def _read_arrow_csv(path: Path, encoding: str, data: bytes | None):
    """Every column as text, as written (prices and times are converted by ArrowTable): --out
    repeats the file's own numbers and times. data: the bytes of a pipe, already read."""
    try:
        return _read_arrow_csv_once(path, encoding, data, 4 << 20)
    except _TooLong:  # a row longer than a block: once more with blocks of 1 GiB
        try:
            return _read_arrow_csv_once(path, encoding, data, 1 << 30)
        except _TooLong:
            pass
        raise TableError(f"{path} has a line too long for pyarrow's blocks; --reader numpy reads it") from None


class _TooLong(Exception):
    pass


def _read_arrow_csv_once(path: Path, encoding: str, data: bytes | None, block: int):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    bar = None
    try:
        if data is None:
            stream, bar = _open_binary(path)
            head = _head(path)
            if bar is None and _decompressor(path) is None:  # no bar to move: pyarrow's own reader
                stream.close()
                stream = pa.input_stream(str(path))
        else:
            head, stream = data[:1 << 20], pa.BufferReader(data)
        names = _header_names(head, path, encoding)
        check = _RowCheck()
        try:
            table = pacsv.read_csv(
                stream,
                # 4 MiB blocks: a row must fit in one (a 1 MiB line broke the default 1 MiB)
                read_options=pacsv.ReadOptions(encoding="utf8" if _utf8(encoding) else encoding,
                                               block_size=max(block, 4 * _longest_line(head))),
                parse_options=pacsv.ParseOptions(invalid_row_handler=check),
                convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
        except pa.ArrowInvalid as exc:
            first = str(exc).splitlines()[0] if str(exc) else "unreadable"
            if "Empty CSV file" in first:
                raise TableError(f"{path} is empty") from None
            if "straddl" in first:
                raise _TooLong from None
            if "invalid UTF8" in first or "UTF8" in first and "invalid" in first.lower():
                raise _not_text(path, encoding, exc) from None
            if check.bad is not None:
                row = check.bad
                at = _find_line(path, data, encoding, text=row.text)
                where = f"line {at[0]} of {path} (data row {at[1]})" if at else f"a row of {path}"
                raise TableError(f"{where} has {row.actual_columns} fields; the header has "
                                 f"{row.expected_columns}: {row.text[:60]!r}") from None
            raise TableError(f"{path} is not a CSV file kama can read: {first}") from None
    except READ_ERRORS as exc:
        raise TableError(f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    finally:
        if bar is not None:
            bar.close()
        if "stream" in locals():
            stream.close()
    strings = []
    for col in table.columns:  # a column whose name the header did not give as pyarrow saw it
        strings.append(col if pa.types.is_string(col.type) else col.cast(pa.string()))
    return pa.table(strings, names=table.column_names) if any(a is not b for a, b in zip(strings, table.columns)) \
        else table


_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """A CSV's lines as pyarrow splits them: at \\n, \\r\\n and \\r only (str.splitlines also splits
    at form feeds, U+2028, and NEL, which cp1252's '...' is as latin-1)."""
    if _OTHER_BREAKS.search(text) is None:
        return text.splitlines()
    lines = _LINE_ENDS.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _find_line(path: Path, data: bytes | None, encoding: str, row: int | None = None,
               text: str | None = None) -> tuple[int, int] | None:
    """(line number, data row) of data row `row` (1-based), or of the first data row whose
    text is `text`, read again line by line (on the way to an error only); None if not found."""
    bar = None
    try:
        stream, bar = _open_binary(path) if data is None else (io.BytesIO(data), None)
        with io.TextIOWrapper(stream, encoding="utf-8-sig" if _utf8(encoding) else encoding, newline="") as f:
            kept = -1  # the header is row 0
            for number, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                kept += 1
                if kept and (kept == row or (text is not None and line == text)):
                    return number, kept
    except (*READ_ERRORS, UnicodeDecodeError):
        pass
    finally:
        if bar is not None:
            bar.close()
    return None


def _read_parquet(path: Path, data: bytes | None):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TableError("reading Parquet needs pyarrow: pip install 'kama[io]'") from None
    import pyarrow as pa

    try:
        return pq.read_table(path if data is None else pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise TableError(f"{path} is not a Parquet file kama can read: {str(exc).splitlines()[0]}") from None


class NumpyTable(Table):
    """The fallback without pyarrow: the header by the csv module, the price (and time) column by
    NumPy's C parser (np.loadtxt; a row-by-row pass only for missing values or to name a bad
    row), and the lines kept as text so that --out repeats them as they were."""

    def __init__(self, path: Path, column: str, encoding: str = "utf-8", data: bytes | None = None):
        try:
            stream, bar = _open_binary(path) if data is None else (io.BytesIO(data), None)
            try:
                with io.TextIOWrapper(stream, encoding="utf-8-sig" if _utf8(encoding) else encoding,
                                      newline="") as text_stream:
                    text = text_stream.read()
            finally:
                if bar is not None:
                    bar.close()
                stream.close()
        except UnicodeDecodeError:
            raise _not_text(path, encoding, None) from None
        except READ_ERRORS as exc:
            raise TableError(f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
        lines = split_lines(text)
        del text
        self.blanks = []  # where the blank lines were (0-based), for line numbers
        if any(not line.strip() for line in lines):
            self.blanks = [n for n, line in enumerate(lines) if not line.strip()]
            lines = [line for line in lines if line.strip()]
        if not lines:
            raise TableError(f"{path} is empty")
        self.columns = [c.strip() for c in next(csv.reader([lines[0]]))]
        if column not in self.columns:
            raise _no_column(column, self.columns, path)
        if self.columns.count(column) > 1:
            raise TableError(f"{path} has {self.columns.count(column)} columns named {column!r}; rename all "
                             f"but one")
        self.header, self.lines = lines[0], lines[1:]
        _check_fields(self.lines, len(self.columns), path, self.line_of)
        col = self.columns.index(column)
        try:
            self.price = self._column(col, np.float64)
        except ValueError:
            self.price = np.array([_numpy_float(r, col, i, column, path, len(self.columns), self.line_of)
                                   for i, r in enumerate(csv.reader(self.lines))], dtype=np.float64)
        self.time_name = _time_column(self.columns)
        self.time = None
        if self.time_name is not None:
            t = self.columns.index(self.time_name)
            try:
                with warnings.catch_warnings():  # NumPy 1.23 reads 'NaN' or '1.5' as an int, with a warning
                    warnings.simplefilter("error", DeprecationWarning)
                    self.time = self._column(t, np.int64)
            except (ValueError, DeprecationWarning):
                try:
                    self.time = self._column(t, np.float64)
                except ValueError:
                    self.time, self.time_reason = text_times([r[t] if t < len(r) else None
                                                              for r in csv.reader(self.lines)])

    def line_of(self, i: int) -> int:
        """The file's line number of data row i (0-based)."""
        at = i + 1  # among the kept lines, the header first
        for blank in self.blanks:
            if blank > at:
                break
            at += 1
        return at + 1

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

    def writable(self) -> str | None:
        return None

    def write_csv(self, file, name: str, values: np.ndarray) -> None:
        """Into a binary file open for writing: the lines as they were plus the KAMA column."""
        text = io.TextIOWrapper(file, encoding="utf-8", newline="", write_through=False)
        try:
            text.write(f"{self.header},{name}\n")
            text.writelines(f"{line},\n" if v != v else f"{line},{v!r}\n" for line, v in zip(self.lines, values.tolist()))
            text.flush()
        finally:
            text.detach()


def _check_fields(lines: list[str], fields: int, path: Path, line_of) -> None:
    """Every row has the header's number of fields, as pyarrow requires (counted by commas;
    a row whose count differs is parsed properly before it is called wrong)."""
    commas = fields - 1
    for i, line in enumerate(lines):
        if line.count(",") != commas:
            row = next(csv.reader([line]), [])
            if len(row) != fields:
                raise TableError(f"line {line_of(i)} of {path} (data row {i + 1}) has {len(row)} fields; the header "
                                 f"has {fields}: {line[:60]!r}")


def _numpy_float(row: list[str], col: int, i: int, column: str, path: Path, fields: int, line_of) -> float:
    if len(row) < fields:  # as pyarrow says it
        raise TableError(f"line {line_of(i)} of {path} (data row {i + 1}) has {len(row)} fields; the header "
                         f"has {fields}")
    text = row[col].strip()
    if text in NULLS:
        return math.nan
    if not is_number(text):
        raise TableError(f"column {column!r} of {path} is not numeric: data row {i + 1} "
                         f"(line {line_of(i)}) holds {row[col]!r}")
    return float(text)


def read(path: Path, column: str, reader: str = "auto", encoding: str = "utf-8") -> Table:
    """The table of a CSV or Parquet file. reader: 'auto' (pyarrow when installed, else NumPy),
    'pyarrow' or 'numpy' (CSV only); encoding: the CSV's text encoding."""
    if not path.exists():
        raise TableError(f"no such file: {path} (without a file, try --demo)")
    if path.is_dir():
        raise TableError(f"{path} is a folder, not a file")
    data = None
    try:
        if not _regular(path):  # a pipe, FIFO or /dev/stdin is read once, front to back: into memory
            stream, _ = _open_binary(path)
            with stream:
                data = stream.read()
            opener = None if DECOMPRESS.get(path.suffix.lower()) else _by_magic(data[:6])
            if opener is not None:  # compressed without its suffix: gzip -c ... | kama -
                with opener(io.BytesIO(data)) as unpacked:
                    data = unpacked.read()
            magic = data[:4]
        else:
            with open(path, "rb") as f:
                magic = f.read(4)
    except READ_ERRORS as exc:
        raise TableError(f"{path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    parquet = path.suffix.lower() in PARQUET_SUFFIXES or magic == b"PAR1"
    if reader == "auto":
        reader = "pyarrow" if pyarrow_available() else "numpy"
    if reader == "pyarrow" and not pyarrow_available():
        raise TableError("--reader pyarrow needs pyarrow: pip install 'kama[io]'")
    if parquet:
        if reader == "numpy":
            raise TableError("reading Parquet needs pyarrow (pip install 'kama[io]'); NumPy reads CSV only")
        table = _read_parquet(path, data)
    elif reader == "numpy":
        return NumpyTable(path, column, encoding, data)
    else:
        table = _read_arrow_csv(path, encoding, data)
    if parquet:
        return ArrowTable(table, column, str(path))
    return ArrowTable(table, column, str(path), lambda row: _find_line(path, data, encoding, row=row))
