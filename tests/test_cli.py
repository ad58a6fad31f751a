"""The `kama` command: the main job, and files from the wild (blank lines, Excel's byte-order
mark, text among the prices, newest-first rows, Parquet), every failure one line on stderr
with exit status 2 and nothing written."""
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA

import kama
from kama import _cli, _table

READERS = ["numpy", pytest.param("pyarrow", marks=pytest.mark.skipif(
    not _table.pyarrow_available(), reason="pyarrow (kama[io]) is not installed"))]
needs_pyarrow = pytest.mark.skipif(not _table.pyarrow_available(), reason="pyarrow (kama[io]) is not installed")


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "kama", *map(str, args)], cwd=cwd, capture_output=True, text=True)


def cli(capsys, *args):
    """main() in this process: (status, stdout, stderr)."""
    status = _cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def read_column(path, name):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, np.array([float(r[name]) if r[name] else np.nan for r in rows])


def walk(n=300, seed=3):
    return 100 + np.cumsum(np.random.default_rng(seed).standard_normal(n))


def write_prices(path, prices, times=None, *, bom=False, tail="", newline="\n"):
    times = np.arange(len(prices)) * 60_000 + 1_700_000_000_000 if times is None else times
    text = newline.join(["timestamp_ms,close"] + [f"{t},{p!r}" for t, p in zip(times.tolist(), prices.tolist())])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + (text + newline + tail).encode())
    return path


def assert_one_line_error(status, err, message):
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kama: error: "), err
    assert message in lines[0], err
    assert "Traceback" not in err


# ---- the main job ------------------------------------------------------------------------------


def test_demo_writes_kama_of_its_prices(tmp_path):
    res = run("--demo", "400", "--period", "14", "--out", "k.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "400 rows" in res.stdout
    rows, got = read_column(tmp_path / "k.csv", "kama_14")
    prices = np.array([float(r["close"]) for r in rows])
    np.testing.assert_array_equal(got, kama.kama(prices, 14))


@pytest.mark.parametrize("reader", READERS)
def test_real_file_talib_mode(tmp_path, capsys, reader):
    if not DATA.exists():
        pytest.skip(f"real data not present at {DATA}")
    status, _, err = cli(capsys, DATA, "--column", "close", "--period", "30", "--compat", "talib",
                         "--out", tmp_path / "k.csv", "--reader", reader)
    assert status == 0, err
    rows, got = read_column(tmp_path / "k.csv", "kama_30")
    assert list(rows[0])[:6] == ["timestamp_ms", "open", "close", "high", "low", "volume"]
    prices = np.loadtxt(DATA, delimiter=",", skiprows=1, usecols=2)
    np.testing.assert_array_equal(got, kama.kama(prices, 30, compat="talib"))
    np.testing.assert_array_equal([float(r["close"]) for r in rows], prices)  # the input, as it was


@pytest.mark.parametrize("reader", READERS)
def test_missing_prices_are_nan_and_empty_in_the_output(tmp_path, capsys, reader):
    p = tmp_path / "gappy.csv"
    prices = walk(60)
    lines = ["timestamp_ms,close"] + [f"{i},{v!r}" for i, v in enumerate(prices.tolist())]
    lines[1], lines[2] = "0,", "1,NA"  # leading missing values
    p.write_text("\n".join(lines) + "\n")
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0, err
    _, got = read_column(tmp_path / "o.csv", "kama_5")
    x = prices.copy()
    x[:2] = np.nan
    np.testing.assert_array_equal(got, kama.kama(x, 5))


# ---- files from the wild -------------------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("tail", ["\n", "\n\n\n", "  \n"])
def test_blank_lines_at_the_end_are_not_rows(tmp_path, capsys, reader, tail):
    prices = walk(50)
    p = write_prices(tmp_path / "p.csv", prices, tail=tail)
    status, out, err = cli(capsys, p, "--period", "10", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0, err
    assert "50 rows" in out
    _, got = read_column(tmp_path / "o.csv", "kama_10")
    np.testing.assert_array_equal(got, kama.kama(prices, 10))


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_excel_csv_utf8_with_a_byte_order_mark(tmp_path, capsys, reader, newline):
    prices = walk(40)
    p = write_prices(tmp_path / "excel.csv", prices, bom=True, newline=newline)
    status, out, err = cli(capsys, p, "--period", "10", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0, err
    with open(tmp_path / "o.csv", newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == ["timestamp_ms", "close", "kama_10"]  # no '\ufefftimestamp_ms'
    _, got = read_column(tmp_path / "o.csv", "kama_10")
    np.testing.assert_array_equal(got, kama.kama(prices, 10))


@pytest.mark.parametrize("reader", READERS)
def test_text_in_the_price_column_names_its_row_and_writes_nothing(tmp_path, capsys, reader):
    lines = ["timestamp_ms,close"] + [f"{i},{100 + i}" for i in range(20)]
    lines[8] = "7,n/a?"
    p = tmp_path / "bad.csv"
    p.write_text("\n".join(lines) + "\n")
    status, out, err = cli(capsys, p, "--out", tmp_path / "o.csv", "--reader", reader)
    assert_one_line_error(status, err, "column 'close' of")
    assert "data row 8 (line 9) holds 'n/a?'" in err
    assert out == "" and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("reader", READERS)
def test_empty_and_header_only_files_both_exit_2(tmp_path, capsys, reader):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text("timestamp_ms,close\n")
    (tmp_path / "blank.csv").write_text("\n\n")
    assert_one_line_error(*cli(capsys, tmp_path / "empty.csv", "--reader", reader)[::2], "is empty")
    assert_one_line_error(*cli(capsys, tmp_path / "blank.csv", "--reader", reader)[::2], "is empty")
    assert_one_line_error(*cli(capsys, tmp_path / "header.csv", "--reader", reader)[::2],
                          "has a header but no data rows")


@pytest.mark.parametrize("reader", READERS)
def test_newest_first_rows_are_put_in_time_order(tmp_path, capsys, reader):
    prices = walk(200)
    times = np.arange(200) * 60_000 + 1_700_000_000_000
    up = write_prices(tmp_path / "up.csv", prices, times)
    down = write_prices(tmp_path / "down.csv", prices[::-1], times[::-1])
    assert cli(capsys, up, "--out", tmp_path / "up_out.csv", "--reader", reader)[0] == 0
    status, _, err = cli(capsys, down, "--out", tmp_path / "down_out.csv", "--reader", reader)
    assert status == 0
    assert "time order" in err and "newest first" in err
    assert (tmp_path / "up_out.csv").read_text() == (tmp_path / "down_out.csv").read_text()
    # --keep-order: the file's order, and a note that says so
    status, _, err = cli(capsys, down, "--keep-order", "--out", tmp_path / "kept.csv", "--reader", reader)
    assert status == 0 and "time order" in err and "--keep-order" in err
    _, got = read_column(tmp_path / "kept.csv", "kama_30")
    np.testing.assert_array_equal(got, kama.kama(prices[::-1], 30))


@pytest.mark.parametrize("reader", READERS)
def test_shuffled_rows_are_sorted_by_time(tmp_path, capsys, reader):
    prices = walk(120)
    times = np.arange(120) * 60_000 + 1_700_000_000_000
    order = np.random.default_rng(5).permutation(120)
    p = write_prices(tmp_path / "shuffled.csv", prices[order], times[order])
    status, _, err = cli(capsys, p, "--period", "10", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0 and "time order" in err and "out of order" in err
    _, got = read_column(tmp_path / "o.csv", "kama_10")
    np.testing.assert_array_equal(got, kama.kama(prices, 10))


def test_files_in_time_order_get_no_note(tmp_path, capsys):
    status, _, err = cli(capsys, write_prices(tmp_path / "p.csv", walk(50)), "--period", "5")
    assert status == 0 and err == ""


@needs_pyarrow
def test_parquet_equals_csv(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    prices = walk(500)
    times = (np.arange(500) * 60_000 + 1_700_000_000_000).astype("datetime64[ms]")
    pq.write_table(pa.table({"time": times, "close": prices, "volume": np.ones(500)}), tmp_path / "p.parquet")
    status, out, err = cli(capsys, tmp_path / "p.parquet", "--period", "14", "--out", tmp_path / "o.csv")
    assert status == 0, err
    assert "500 rows" in out
    rows, got = read_column(tmp_path / "o.csv", "kama_14")
    assert list(rows[0]) == ["time", "close", "volume", "kama_14"]
    np.testing.assert_array_equal(got, kama.kama(prices, 14))
    # newest first in Parquet too (a timestamp column)
    pq.write_table(pa.table({"time": times[::-1], "close": prices[::-1]}), tmp_path / "down.parquet")
    status, _, err = cli(capsys, tmp_path / "down.parquet", "--period", "14", "--out", tmp_path / "d.csv")
    assert status == 0 and "time order" in err
    np.testing.assert_array_equal(read_column(tmp_path / "d.csv", "kama_14")[1], got)
    # NumPy reads CSV only; a broken Parquet file is one line
    assert_one_line_error(*cli(capsys, tmp_path / "p.parquet", "--reader", "numpy")[::2], "reading Parquet needs pyarrow")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    assert_one_line_error(*cli(capsys, tmp_path / "broken.parquet")[::2], "is not a Parquet file kama can read")


def test_progress_bar_follows_the_bytes_read(tmp_path, capsys, monkeypatch):
    tqdm = pytest.importorskip("tqdm").tqdm
    import io

    prices = walk(3000)
    p = write_prices(tmp_path / "p.csv", prices)
    bars = []

    def progress(path, size):  # a bar for every file, drawn into a buffer (stderr is no terminal here)
        bars.append(tqdm(total=size, file=io.StringIO(), delay=0, mininterval=0))
        return bars[-1]

    monkeypatch.setattr(_table, "_progress", progress)
    readers = ["numpy"] + (["pyarrow"] if _table.pyarrow_available() else [])
    for reader in readers:
        status, _, err = cli(capsys, p, "--out", tmp_path / f"{reader}.csv", "--reader", reader)
        assert status == 0, err
        assert bars[-1].n == p.stat().st_size  # every byte went past the bar
        np.testing.assert_array_equal(read_column(tmp_path / f"{reader}.csv", "kama_30")[1], kama.kama(prices, 30))


def test_no_bar_for_small_files_or_without_a_terminal(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    p = write_prices(tmp_path / "p.csv", walk(10))
    monkeypatch.undo()
    assert _table._progress(p, p.stat().st_size) is None  # small
    assert _table._progress(p, 1 << 40) is None  # large, but stderr is not a terminal under pytest


# ---- output ------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--out", "--plot"])
def test_output_into_a_missing_folder_fails_before_computing(tmp_path, capsys, flag):
    if flag == "--plot":
        pytest.importorskip("matplotlib")
    status, out, err = cli(capsys, "--demo", "100", flag, tmp_path / "no" / "such" / "k.file")
    assert_one_line_error(status, err, "no such folder")
    assert out == ""  # nothing computed, nothing printed
    status, out, err = cli(capsys, "--demo", "100", flag, tmp_path)
    assert_one_line_error(status, err, "is a folder")


def test_plot_has_labels_legend_and_parameters(tmp_path, capsys, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    seen = {}

    def savefig(self, path, *a, **k):
        ax = self.axes[0]
        seen.update(ylabel=ax.get_ylabel(), xlabel=ax.get_xlabel(), title=ax.get_title(),
                    legend=[t.get_text() for t in ax.get_legend().get_texts()], points=len(ax.lines[0].get_xdata()))
        path.write(b"\x89PNG\r\n\x1a\n")  # the CLI hands savefig an open file (written, then renamed)

    monkeypatch.setattr(Figure, "savefig", savefig)
    p = write_prices(tmp_path / "p.csv", walk(400))
    status, _, err = cli(capsys, p, "--period", "14", "--fast", "3", "--compat", "talib", "--plot",
                         tmp_path / "k.png", "--plot-last", "100")
    assert status == 0, err
    assert seen["ylabel"] == "close" and seen["legend"] == ["close", "kama_14"]
    assert "period=14" in seen["title"] and "fast=3" in seen["title"] and "talib" in seen["title"]
    assert "p.csv" in seen["title"] and seen["xlabel"] == "time (UTC)" and seen["points"] == 100


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    res = run("--demo", "300", "--plot", "k.png", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_closed_pipe_is_no_traceback_and_the_file_is_still_written(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "kama", "--demo", "5000", "--out", "k.csv"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err
    _, got = read_column(tmp_path / "k.csv", "kama_30")
    assert np.isfinite(got[30:]).all()


# ---- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.csv"], "no such file"),
        ([], "give a CSV or Parquet file, or --demo"),
        (["--demo", "100", "--column", "open"], "no column 'open'"),
        (["--demo", "10", "--period", "30"], "Invalid period"),
        (["--demo", "100", "--kernel", "sse9"], "Unknown kernel"),
        (["--demo", "-5"], "--demo takes at least 1 bar, got -5"),
        (["--demo", "0"], "--demo takes at least 1 bar"),
        (["--demo", "x"], "--demo takes a whole number of bars"),
        (["--demo", "100", "--plot-last", "0"], "--plot-last takes at least 1 bar"),
        (["--demo", "100", "--period", "many"], "invalid int value"),
        (["--demo", "100", "--compat", "excel"], "invalid choice"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_errors_exit_2_with_one_line(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    status, out, err = cli(capsys, *args)
    assert_one_line_error(status, err, message)
    assert out == "" and not list(tmp_path.iterdir())


def test_an_error_through_the_installed_command(tmp_path):
    res = run("--demo", "-5", cwd=tmp_path)  # python -m kama, as the console script runs main()
    assert_one_line_error(res.returncode, res.stderr, "--demo takes at least 1 bar, got -5")


def test_column_missing_from_a_file(tmp_path, capsys):
    p = write_prices(tmp_path / "p.csv", walk(50))
    status, _, err = cli(capsys, p, "--column", "Close")
    assert_one_line_error(status, err, "no column 'Close'")
    assert "['timestamp_ms', 'close']" in err


@pytest.mark.parametrize("reader", READERS)
def test_semicolon_files_are_named_as_such(tmp_path, capsys, reader):
    p = tmp_path / "semi.csv"
    p.write_text("timestamp_ms;close\n1;2.5\n2;2.6\n")
    status, _, err = cli(capsys, p, "--reader", reader)
    assert_one_line_error(status, err, "separated by semicolons")


def test_out_onto_the_input_is_refused(tmp_path, capsys, monkeypatch):
    p = write_prices(tmp_path / "p.csv", walk(50))
    before = p.read_bytes()
    monkeypatch.chdir(tmp_path)
    for target in (p, "p.csv", "./p.csv"):
        status, _, err = cli(capsys, p, "--period", "5", "--out", target)
        assert_one_line_error(status, err, "is the input file")
    assert p.read_bytes() == before


def test_kama_errors_are_not_prefixed_twice(tmp_path, capsys):
    p = tmp_path / "nan.csv"
    p.write_text("timestamp_ms,close\n1,\n2,\n")
    status, _, err = cli(capsys, p)
    assert_one_line_error(status, err, f"kama: error: {p}, column 'close': All values are NaN")
    assert err.count("kama:") == 1


@pytest.mark.parametrize("reader", READERS)
def test_latin1_bytes_are_named_as_not_utf8(tmp_path, capsys, reader):
    p = tmp_path / "latin.csv"
    p.write_bytes(b"timestamp_ms,close\n1,1.5\n2,caf\xe9\n")
    status, _, err = cli(capsys, p, "--reader", reader)
    assert_one_line_error(status, err, "not UTF-8 text")


@needs_pyarrow
def test_parquet_text_prices_name_the_row(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"close": ["1.5", "x", "2"]}), tmp_path / "s.parquet")
    status, _, err = cli(capsys, tmp_path / "s.parquet")
    assert_one_line_error(status, err, "data row 2 holds 'x'")


# ---- time columns that are hard to put in order ----------------------------------------------------


def write_rows(path, header, rows, encoding="utf-8"):
    path.write_bytes(("\n".join([header] + rows) + "\n").encode(encoding))
    return path


@pytest.mark.parametrize("reader", READERS)
def test_an_empty_time_in_a_newest_first_file_is_refused_not_computed_backwards(tmp_path, capsys, reader):
    prices = walk(100)
    times = (np.arange(100) * 60_000 + 1_700_000_000_000).tolist()
    rows = [f"{'' if i == 40 else t},{v!r}" for i, (t, v) in enumerate(zip(times[::-1], prices[::-1].tolist()))]
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,close", rows)
    status, out, err = cli(capsys, p, "--period", "10", "--out", tmp_path / "o.csv", "--reader", reader)
    assert_one_line_error(status, err, "not in time order")
    assert "1 row has no time (first: data row 41)" in err and "--keep-order" in err
    assert out == "" and not (tmp_path / "o.csv").exists()
    status, _, err = cli(capsys, p, "--period", "10", "--keep-order", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0 and "--keep-order" in err
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices[::-1], 10))


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("blank", ["", "NaN"])
def test_an_empty_time_in_a_file_in_time_order_is_no_problem(tmp_path, capsys, reader, blank):
    prices = walk(100)
    rows = [f"{blank if i == 40 else 1_700_000_000_000 + i * 60_000},{v!r}" for i, v in enumerate(prices.tolist())]
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,close", rows)
    status, _, err = cli(capsys, p, "--period", "10", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0 and err == ""
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))


def us_dates(n):
    import datetime as dt
    return [(dt.date(2022, 12, 1) + dt.timedelta(days=i)).strftime("%m/%d/%Y") for i in range(n)]


@pytest.mark.parametrize("reader", READERS)
def test_us_dates_are_read_as_dates_not_sorted_as_text(tmp_path, capsys, reader):
    prices, dates = walk(100), us_dates(100)  # 12/31/2022 then 01/01/2023: text order is not time order
    up = write_rows(tmp_path / "up.csv", "date,close", [f"{d},{v!r}" for d, v in zip(dates, prices.tolist())])
    status, _, err = cli(capsys, up, "--period", "10", "--out", tmp_path / "up_out.csv", "--reader", reader)
    assert status == 0 and err == ""
    np.testing.assert_array_equal(read_column(tmp_path / "up_out.csv", "kama_10")[1], kama.kama(prices, 10))
    down = write_rows(tmp_path / "down.csv", "date,close",
                      [f"{d},{v!r}" for d, v in zip(dates[::-1], prices[::-1].tolist())])
    status, _, err = cli(capsys, down, "--period", "10", "--out", tmp_path / "down_out.csv", "--reader", reader)
    assert status == 0 and "time order" in err and "newest first" in err
    np.testing.assert_array_equal(read_column(tmp_path / "down_out.csv", "kama_10")[1], kama.kama(prices, 10))


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("times, why", [
    (["01/02/2023", "02/01/2023", "03/01/2023"], "is ambiguous"),  # January 2 or February 1?
    (["2023-01-01T00:00:00+02:00", "2023-01-01T01:00:00", "2023-01-01T02:00:00"], "mixes times with and without"),
    (["yesterday", "today", "now"], "holds 'yesterday'"),
])
def test_times_kama_cannot_order_are_said_so(tmp_path, capsys, reader, times, why):
    p = write_rows(tmp_path / "p.csv", "date,close", [f"{t},{v}" for t, v in zip(times, [1.0, 2.0, 3.0])])
    status, _, err = cli(capsys, p, "--period", "1", "--reader", reader)
    assert status == 0
    assert "time order was not checked" in err and why in err


@pytest.mark.parametrize("reader", READERS)
def test_utc_offsets_are_ordered_in_utc_by_both_readers(tmp_path, capsys, reader):
    # 00:30+02:00 is 22:30 UTC the day before: in time order here, though not as text
    times = ["2023-01-01T22:00:00Z", "2023-01-02T00:30:00+02:00", "2023-01-01T23:00:00Z", "2023-01-02T00:00:00Z"]
    p = write_rows(tmp_path / "p.csv", "time,close", [f"{t},{v}" for t, v in zip(times, [1.0, 2.0, 3.0, 4.0])])
    status, _, err = cli(capsys, p, "--period", "1", "--reader", reader)
    assert status == 0 and err == ""
    # and out of order here, though in order as text: sorted by UTC
    times[1], times[2] = times[2], times[1]
    p = write_rows(tmp_path / "q.csv", "time,close", [f"{t},{v}" for t, v in zip(times, [1.0, 2.0, 3.0, 4.0])])
    status, _, err = cli(capsys, p, "--period", "1", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0 and "time order" in err
    rows, got = read_column(tmp_path / "o.csv", "kama_1")
    assert [r["close"] for r in rows] == ["1.0", "3.0", "2.0", "4.0"]
    np.testing.assert_array_equal(got, kama.kama(np.array([1.0, 3.0, 2.0, 4.0]), 1))


@needs_pyarrow
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_parquet_timestamps_of_any_unit(tmp_path, capsys, unit):
    import pyarrow as pa
    import pyarrow.parquet as pq

    prices = walk(300)
    times = np.datetime64("2023-01-01", unit) + np.arange(300).astype(f"timedelta64[{unit}]")  # 1 unit apart
    pq.write_table(pa.table({"time": times[::-1], "close": prices[::-1]}), tmp_path / "p.parquet")
    status, _, err = cli(capsys, tmp_path / "p.parquet", "--period", "10", "--out", tmp_path / "o.csv")
    assert status == 0 and "newest first" in err, err
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))


# ---- headers, encodings, ragged rows, compressed files, pipes ----------------------------------------------


@pytest.mark.parametrize("reader", READERS)
def test_a_price_column_named_twice_is_refused(tmp_path, capsys, reader):
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,close,close", ["1,2.5,2.5", "2,2.6,2.6"])
    assert_one_line_error(*cli(capsys, p, "--reader", reader)[::2], "has 2 columns named 'close'")


@pytest.mark.parametrize("reader", READERS)
def test_other_columns_named_twice_are_written_back(tmp_path, capsys, reader):
    prices = walk(40)
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,vol,vol,close",
                   [f"{i},1,2,{v!r}" for i, v in enumerate(prices.tolist())])
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0, err
    lines = (tmp_path / "o.csv").read_text().splitlines()
    assert lines[0] == "timestamp_ms,vol,vol,close,kama_5" and lines[1].startswith("0,1,2,")


@pytest.mark.parametrize("reader", READERS)
def test_spaces_around_header_names(tmp_path, capsys, reader):
    prices = walk(20)
    rows = [f"{100 - i},{v!r}" for i, v in enumerate(prices[::-1].tolist())]  # newest first
    p = write_rows(tmp_path / "p.csv", "timestamp_ms , close ", rows)
    status, _, err = cli(capsys, p, "--period", "5", "--reader", reader, "--out", tmp_path / "o.csv")
    assert status == 0 and "timestamp_ms runs newest first" in err  # both names found
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_5")[1], kama.kama(prices, 5))


@pytest.mark.parametrize("reader", READERS)
def test_latin1_text_outside_the_prices(tmp_path, capsys, reader):
    prices = walk(30)
    rows = [f"{i},caf\u00e9,{v!r}" for i, v in enumerate(prices.tolist())]
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,name,close", rows, encoding="latin-1")
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", reader)
    assert_one_line_error(status, err, "is not UTF-8 text")
    assert "--encoding" in err and not (tmp_path / "o.csv").exists()
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", reader,
                         "--encoding", "latin-1")
    assert status == 0, err
    out_rows, got = read_column(tmp_path / "o.csv", "kama_5")  # --out is UTF-8
    assert out_rows[0]["name"] == "caf\u00e9"
    np.testing.assert_array_equal(got, kama.kama(prices, 5))
    h = write_rows(tmp_path / "h.csv", "timestamp_ms,pr\u00e9,close", ["1,2,3"], encoding="latin-1")
    assert_one_line_error(*cli(capsys, h, "--reader", reader)[::2], "is not UTF-8 text")


def test_an_unknown_encoding_is_an_error(capsys):
    assert_one_line_error(*cli(capsys, "--demo", "50", "--encoding", "klingon")[::2], "unknown text encoding")


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("fields", ["1,2.5", "1,2.5,7,8"])
def test_rows_with_too_few_or_too_many_fields_name_their_line(tmp_path, capsys, reader, fields):
    rows = [f"{i},{100 + i},7" for i in range(20)]
    rows[5] = fields
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,close,volume", rows)
    status, _, err = cli(capsys, p, "--reader", reader, "--out", tmp_path / "o.csv")
    assert_one_line_error(status, err, f"line 7 of {p} (data row 6) has {fields.count(',') + 1} fields; the header has 3")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz"])
def test_compressed_csv(tmp_path, capsys, reader, suffix):
    prices = walk(80)
    p = write_prices(tmp_path / "p.csv", prices)
    packed = tmp_path / f"p.csv{suffix}"
    packer = __import__({".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}[suffix])
    packed.write_bytes(packer.compress(p.read_bytes()))
    status, _, err = cli(capsys, packed, "--period", "10", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0, err
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))


@pytest.mark.parametrize("reader", READERS)
def test_standard_input_and_fifos(tmp_path, reader):
    import os
    import threading

    prices = walk(60)
    p = write_prices(tmp_path / "p.csv", prices)
    with open(p, "rb") as f:
        res = subprocess.run([sys.executable, "-m", "kama", "/dev/stdin", "--period", "10", "--out", "o.csv",
                              "--reader", reader], stdin=f, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=lambda: fifo.write_bytes(p.read_bytes()))
    feeder.start()
    res = run(fifo, "--period", "10", "--out", "f.csv", "--reader", reader, cwd=tmp_path)
    feeder.join(30)
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(read_column(tmp_path / "f.csv", "kama_10")[1], kama.kama(prices, 10))


@needs_pyarrow
def test_parquet_through_a_pipe_is_known_by_its_bytes(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    prices = walk(60)
    pq.write_table(pa.table({"close": prices}), tmp_path / "p.parquet")
    with open(tmp_path / "p.parquet", "rb") as f:
        res = subprocess.run([sys.executable, "-m", "kama", "/dev/stdin", "--period", "10", "--out", "o.csv"],
                             stdin=f, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))


@needs_pyarrow
def test_out_keeps_the_files_own_numbers_and_times(tmp_path, capsys):
    rows = [f"2023-01-01 00:{i:02d}:00,{100 + i}.50,1.500" for i in range(20)]
    p = write_rows(tmp_path / "p.csv", "timestamp,close,volume", rows)
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", "pyarrow")
    assert status == 0, err
    lines = (tmp_path / "o.csv").read_text().splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines[1:]] == rows
    assert lines[0] == "timestamp,close,volume,kama_5"


# ---- output that cannot be written ---------------------------------------------------------------


def test_an_unknown_plot_suffix_fails_before_anything_is_written(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    status, out, err = cli(capsys, "--demo", "100", "--out", tmp_path / "k.csv", "--plot", tmp_path / "k.xyz")
    assert_one_line_error(status, err, "kama cannot draw .xyz images")
    assert out == "" and not list(tmp_path.iterdir())


@pytest.mark.parametrize("flag", ["--out", "--plot"])
def test_a_folder_name_with_a_slash_is_refused(tmp_path, capsys, monkeypatch, flag):
    monkeypatch.chdir(tmp_path)
    status, _, err = cli(capsys, "--demo", "100", flag, "newdir/")
    assert_one_line_error(status, err, "'newdir/' is a folder name")
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("where", ["stdout", "--out", "--plot"])
def test_a_full_disk_is_an_error(tmp_path, where):
    if where == "--plot":
        pytest.importorskip("matplotlib")
    args = [sys.executable, "-m", "kama", "--demo", "300"] + ([where, "/dev/full"] if where != "stdout" else [])
    with open("/dev/full", "w") as full, open(tmp_path / "out", "w") as normal:
        res = subprocess.run(args, stdout=full if where == "stdout" else normal, stderr=subprocess.PIPE,
                             text=True, cwd=tmp_path)
    assert_one_line_error(res.returncode, res.stderr, "No space left on device")


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_a_write_that_stops_leaves_no_part_of_a_file(tmp_path, capsys, monkeypatch, stop):
    target = tmp_path / "k.csv"
    target.write_text("the old file\n")

    def half_then_stop(self, file, name, values):
        file.write(b"bar,close," + name.encode() + b"\n0,1")
        raise stop

    monkeypatch.setattr(_cli._Demo, "write_csv", half_then_stop)
    status, _, err = cli(capsys, "--demo", "100", "--out", target)
    assert status == (130 if stop is KeyboardInterrupt else 2), err
    assert target.read_text() == "the old file\n"  # untouched
    assert [q.name for q in tmp_path.iterdir()] == ["k.csv"]  # and no temporary file left


def test_out_has_the_usual_file_mode(tmp_path):
    import os
    import stat

    res = run("--demo", "100", "--out", "k.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "k.csv").stat().st_mode) == 0o666 & ~umask


# ---- arguments and notes -------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--demo", "100", "--seed", "-1"], "--seed takes a number from 0"),
    (["--demo", "100", "--seed", "x"], "--seed takes a whole number"),
    (["--demo", str(10**12)], "does not fit in memory"),
])
def test_more_bad_arguments(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(*cli(capsys, *args)[::2], message)


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        _cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"kama {kama.__version__}"


@pytest.mark.parametrize("reader", READERS)
def test_infinite_prices_and_fast_above_slow_get_a_note(tmp_path, capsys, reader):
    rows = [f"{i},{'inf' if i == 30 else 100 + i}" for i in range(60)]
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,close", rows)
    status, out, err = cli(capsys, p, "--period", "5", "--reader", reader)
    assert status == 0 and "1 price is infinite (first: data row 31)" in err
    status, _, err = cli(capsys, "--demo", "100", "--fast", "40")
    assert status == 0 and "--fast 40 is slower than --slow 30" in err


def test_kama_errors_name_the_file_and_column(tmp_path, capsys):
    p = write_prices(tmp_path / "p.csv", walk(10))
    assert_one_line_error(*cli(capsys, p, "--period", "30")[::2], f"{p}, column 'close': Invalid period")


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("target", ["o.csv", "/dev/stdout"])
def test_out_quotes_what_must_be_quoted(tmp_path, capsys, reader, target):
    rows = ['2023-01-01,"a,b",1', '2023-01-02,"say ""hi""",2', "2023-01-03,c,3"]
    p = write_rows(tmp_path / "p.csv", "date,name,close", rows)
    out = tmp_path / target if target == "o.csv" else target
    if target == "/dev/stdout":  # written by a child whose stdout is a pipe, as `kama ... --out /dev/stdout | ...`
        res = run(p, "--period", "1", "--out", out, "--reader", reader, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        text = res.stdout  # the CSV alone: the summary went to stderr
        assert f"{p}: 3 rows" in res.stderr
    else:
        status, _, err = cli(capsys, p, "--period", "1", "--out", out, "--reader", reader)
        assert status == 0, err
        text = out.read_text()
    got = list(csv.reader(text.splitlines()))
    assert got[0] == ["date", "name", "close", "kama_1"]
    assert [r[:3] for r in got[1:]] == [["2023-01-01", "a,b", "1"], ["2023-01-02", 'say "hi"', "2"],
                                        ["2023-01-03", "c", "3"]]


# ---- the second audit's cases --------------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
def test_repeating_times_out_of_order_are_left_in_the_files_order(tmp_path, capsys, reader):
    prices = walk(120)
    # a date column and a time-of-day column (HHMM), 40 bars a day: 'Time' is the time column
    rows = [f"2024.01.{2 + i // 40:02d},{930 + i % 40},{v!r}" for i, v in enumerate(prices.tolist())]
    split = write_rows(tmp_path / "split.csv", "Date,Time,Close", rows)
    # several tickers one after another, each in date order
    dates = [f"2024-01-{1 + i % 30:02d}" for i in range(120)]
    tickers = [f"{'ABCD'[i // 30]},{d},{v!r}" for i, (d, v) in enumerate(zip(dates, prices.tolist()))]
    long_ = write_rows(tmp_path / "long.csv", "symbol,date,close", tickers)
    for p, column in ((split, "Close"), (long_, "close")):
        status, _, err = cli(capsys, p, "--column", column, "--period", "10", "--out", tmp_path / "o.csv",
                             "--reader", reader)
        assert status == 0 and "repeats its values" in err and "computed in the file's order" in err
        np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))


@pytest.mark.parametrize("reader", READERS)
def test_newest_first_with_equal_times_is_turned_over_whole(tmp_path, capsys, reader):
    prices = walk(24)
    # newest first: a date column and the hours beside it, each day's hours newest first too
    rows = [f"2024-01-{3 - i // 8:02d},{16 - i % 8},{v!r}" for i, v in enumerate(prices[::-1].tolist())]
    p = write_rows(tmp_path / "p.csv", "date,hour,close", rows)
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0 and "newest first" in err
    out_rows, got = read_column(tmp_path / "o.csv", "kama_5")
    assert [(r["date"], r["hour"]) for r in out_rows[:2]] == [("2024-01-01", "9"), ("2024-01-01", "10")]
    np.testing.assert_array_equal(got, kama.kama(prices, 5))


@pytest.mark.parametrize("reader", READERS)
def test_text_dates_past_2262_and_before_1677(tmp_path, capsys, reader):
    dates = [f"{y}-01-01" for y in range(1600, 1620)] + [f"{y}-01-01" for y in range(2250, 2290)] + ["9999-12-31"]
    prices = walk(len(dates))
    p = write_rows(tmp_path / "p.csv", "date,close", [f"{d},{v!r}" for d, v in zip(dates, prices.tolist())])
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0 and err == ""  # in order: no wrap-around past nanoseconds' range
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_5")[1], kama.kama(prices, 5))


@pytest.mark.parametrize("reader", READERS)
def test_an_unreadable_marker_in_a_time_column_counts_as_missing(tmp_path, capsys, reader):
    times = (np.arange(50)[::-1] * 60_000 + 1_700_000_000_000).tolist()
    rows = [f"{'#N/A' if i == 10 else t},{100 + i}" for i, t in enumerate(times)]
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,close", rows)
    assert_one_line_error(*cli(capsys, p, "--reader", reader)[::2], "1 row has no time (first: data row 11)")


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ""])
def test_a_damaged_compressed_file_is_one_line(tmp_path, capsys, reader, suffix):
    import gzip

    good = write_prices(tmp_path / "p.csv", walk(3000)).read_bytes()
    packed = {".gz": gzip.compress, ".bz2": __import__("bz2").compress, ".xz": __import__("lzma").compress,
              "": gzip.compress}[suffix](good)
    p = tmp_path / f"bad.csv{suffix}"
    p.write_bytes(packed[: len(packed) // 2] + bytes(64) + packed[len(packed) // 2 + 64:])
    status, _, err = cli(capsys, p, "--reader", reader)
    assert_one_line_error(status, err, "cannot be read")


@pytest.mark.parametrize("reader", READERS)
def test_gzip_without_its_suffix_is_read(tmp_path, capsys, reader):
    import gzip

    prices = walk(80)
    p = tmp_path / "export.csv"
    p.write_bytes(gzip.compress(write_prices(tmp_path / "plain.csv", prices).read_bytes()))
    status, _, err = cli(capsys, p, "--period", "10", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0, err
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))


@pytest.mark.parametrize("kind", ["csv", "csv.gz", "parquet"])
def test_a_real_pipe_into_dash(tmp_path, kind):
    import gzip

    prices = walk(70)
    data = write_prices(tmp_path / "p.csv", prices).read_bytes()
    if kind == "csv.gz":
        data = gzip.compress(data)
    elif kind == "parquet":
        if not _table.pyarrow_available():
            pytest.skip("pyarrow (kama[io]) is not installed")
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"close": prices}), tmp_path / "p.parquet")
        data = (tmp_path / "p.parquet").read_bytes()
    res = subprocess.run([sys.executable, "-m", "kama", "-", "--period", "10", "--out", "o.csv"], input=data,
                         cwd=tmp_path, capture_output=True)  # stdin is a pipe here, not a file
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))


def test_out_dash_is_the_csv_alone_and_a_closed_pipe_is_quiet(tmp_path):
    prices = walk(3000)
    p = write_prices(tmp_path / "p.csv", prices)
    res = run(p, "--period", "10", "--out", "-", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    got = np.array([float(r["kama_10"]) if r["kama_10"] else np.nan for r in csv.DictReader(res.stdout.splitlines())])
    np.testing.assert_array_equal(got, kama.kama(prices, 10))
    assert "3000 rows" in res.stderr
    proc = subprocess.Popen([sys.executable, "-m", "kama", str(p), "--out", "-"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "error" not in err


def test_out_through_a_symlink_replaces_the_file_not_the_link(tmp_path, capsys):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to("real.csv")
    status, _, err = cli(capsys, "--demo", "100", "--out", link)
    assert status == 0, err
    assert link.is_symlink() and real.read_text().startswith("bar,close,kama_30\n")


def test_out_onto_a_hard_linked_file_keeps_the_link(tmp_path, capsys):
    import os

    a = tmp_path / "a.csv"
    a.write_text("old\n")
    os.link(a, tmp_path / "b.csv")
    assert cli(capsys, "--demo", "100", "--out", a)[0] == 0
    assert (tmp_path / "b.csv").read_text() == a.read_text() != "old\n"


@pytest.mark.parametrize("args, message", [
    (["--demo", "50", "--plot", "k.pgf"], "kama cannot draw .pgf images"),
    (["--demo", "50", "--encoding", "base64"], "unknown text encoding 'base64'"),
    (["--demo", "50", "--out", "a" * 300 + ".csv"], "File name too long"),
    (["a" * 300 + ".csv"], "File name too long"),
])
def test_still_more_bad_arguments(tmp_path, capsys, monkeypatch, args, message):
    if "--plot" in args:
        pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(*cli(capsys, *args)[::2], message)
    assert not list(tmp_path.iterdir())


def test_a_plot_that_fails_to_draw_leaves_no_out_either(tmp_path, capsys, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    def broken(self, *a, **k):
        raise RuntimeError("no renderer today")

    monkeypatch.setattr(Figure, "savefig", broken)
    status, out, err = cli(capsys, "--demo", "100", "--out", tmp_path / "k.csv", "--plot", tmp_path / "k.png")
    assert_one_line_error(status, err, "no renderer today")
    assert not list(tmp_path.iterdir())


@needs_pyarrow
def test_parquet_durations_dates_and_far_timestamps(tmp_path, capsys):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    prices = walk(40)
    pq.write_table(pa.table({
        "ts": pa.array([dt.datetime(9999, 1, 1) + dt.timedelta(hours=i) for i in range(40)], pa.timestamp("s")),
        "date": pa.array([dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(40)], pa.date32()),
        "hold": pa.array([i * 1000 for i in range(40)], pa.duration("ms")),
        "close": prices,
    }), tmp_path / "p.parquet")
    status, out, err = cli(capsys, tmp_path / "p.parquet", "--period", "5", "--out", tmp_path / "o.csv")
    assert status == 0, err
    assert "9999-01-02 15:00:00" in out  # the summary's first column, past Python's datetime range
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_5")[1], kama.kama(prices, 5))


@pytest.mark.parametrize("reader", READERS)
def test_line_numbers_count_blank_lines(tmp_path, capsys, reader):
    p = tmp_path / "p.csv"
    p.write_text("timestamp_ms,close,volume\n\n1,2,3\n\n2,3\n3,4,5\n")
    assert_one_line_error(*cli(capsys, p, "--reader", reader)[::2], "line 5 of")
    p.write_text("timestamp_ms,close\n\n1,2\n\ny,x\n")
    status, _, err = cli(capsys, p, "--reader", reader)
    assert_one_line_error(status, err, "data row 2 (line 5) holds 'x'")


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("odd", ["\x0c", "\u2028", "\x85"])
def test_only_newlines_end_rows(tmp_path, capsys, reader, odd):
    prices = walk(30)
    rows = [f"{i},note{odd}here,{v!r}" for i, v in enumerate(prices.tolist())]
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,note,close", rows)
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0, err
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_5")[1], kama.kama(prices, 5))


@pytest.mark.parametrize("reader", READERS)
def test_a_line_longer_than_a_megabyte(tmp_path, capsys, reader):
    prices = walk(30)
    rows = [f"{i},{'x' * (1_500_000 if i == 3 else 3)},{v!r}" for i, v in enumerate(prices.tolist())]
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,note,close", rows)
    status, _, err = cli(capsys, p, "--period", "5", "--reader", reader)
    assert status == 0, err


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("text", ["1_000", "\u0661\u0662", "\uff11\uff12"])
def test_prices_that_only_python_reads_are_refused_by_both_readers(tmp_path, capsys, reader, text):
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,close", ["1,2", f"2,{text}", "3,4"])
    assert_one_line_error(*cli(capsys, p, "--reader", reader)[::2], f"data row 2 (line 3) holds {text!r}")


@pytest.mark.parametrize("where", ["tmp", "/dev/shm"])
def test_sigterm_while_writing_leaves_no_part(tmp_path, capsys, monkeypatch, where):
    import os
    import signal
    import tempfile

    if where == "/dev/shm" and not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm here")
    folder = Path(tempfile.mkdtemp(dir="/dev/shm")) if where == "/dev/shm" else tmp_path

    def half_then_term(self, file, name, values):
        file.write(b"bar,close,")
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(_cli._Demo, "write_csv", half_then_term)
    try:
        status, _, err = cli(capsys, "--demo", "100", "--out", folder / "k.csv")
        assert status == 143 and "terminated" in err
        assert not list(folder.iterdir())  # a file in /dev/shm is a file: renamed into place too
    finally:
        if folder != tmp_path:
            import shutil
            shutil.rmtree(folder)


@needs_pyarrow
def test_the_pyarrow_writer_rewinds_when_a_value_needs_quotes(tmp_path, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_polars(name, *a, **k):  # the path without polars
        if name == "polars":
            raise ImportError("no polars here")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_polars)
    quoted = '"a,b"'
    rows = [f"{i},{'plain' if i < 5000 else quoted},{100 + i % 7}" for i in range(6000)]  # past the first batch
    p = write_rows(tmp_path / "p.csv", "timestamp_ms,note,close", rows)
    status, _, err = cli(capsys, p, "--period", "5", "--out", tmp_path / "o.csv", "--reader", "pyarrow")
    assert status == 0, err
    with open(tmp_path / "o.csv", newline="") as f:
        got = list(csv.reader(f))
    assert len(got) == 6001 and [r[:3] for r in got[1:]] == list(csv.reader(rows))


@pytest.mark.parametrize("reader", READERS)
def test_text_times_out_of_order_by_nanoseconds(tmp_path, capsys, reader):
    times = [f"2024-01-01T00:00:00.00000000{d}" for d in (5, 4, 3, 2, 1)] + \
            [f"2024-01-01T00:00:00.0000000{d:02d}" for d in range(6, 11)]
    prices = walk(10)
    p = write_rows(tmp_path / "p.csv", "time,close", [f"{t},{v!r}" for t, v in zip(times, prices.tolist())])
    status, _, err = cli(capsys, p, "--period", "2", "--out", tmp_path / "o.csv", "--reader", reader)
    assert status == 0 and "time order" in err
    order = [4, 3, 2, 1, 0, 5, 6, 7, 8, 9]
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_2")[1], kama.kama(prices[order], 2))


def test_out_dash_appends_where_stdout_points(tmp_path):
    prices = walk(40)
    p = write_prices(tmp_path / "p.csv", prices)
    target = tmp_path / "all.csv"
    target.write_text("# before\n")
    with open(target, "ab") as f:
        res = subprocess.run([sys.executable, "-m", "kama", str(p), "--period", "5", "--out", "-"], stdout=f,
                             stderr=subprocess.PIPE, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = target.read_text().splitlines()
    assert lines[0] == "# before" and lines[1] == "timestamp_ms,close,kama_5" and len(lines) == 42


@pytest.mark.parametrize("packer", ["bz2", "lzma"])
def test_bzip2_and_xz_through_a_pipe(tmp_path, packer):
    prices = walk(70)
    data = __import__(packer).compress(write_prices(tmp_path / "p.csv", prices).read_bytes())
    res = subprocess.run([sys.executable, "-m", "kama", "-", "--period", "10", "--out", "o.csv"], input=data,
                         cwd=tmp_path, capture_output=True)
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(read_column(tmp_path / "o.csv", "kama_10")[1], kama.kama(prices, 10))


@pytest.mark.parametrize("reader", READERS)
def test_a_header_that_starts_like_bzip2_is_text(tmp_path, capsys, reader):
    p = write_rows(tmp_path / "p.csv", "BZh,close", [f"{i},{100 + i}" for i in range(20)])
    assert cli(capsys, p, "--period", "5", "--reader", reader)[0] == 0
