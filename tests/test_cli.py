"""python -m kama: the main job from the command line."""
import csv
import subprocess
import sys

import numpy as np
import pytest
from conftest import DATA

import kama


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "kama", *map(str, args)], cwd=cwd, capture_output=True, text=True)


def read_column(path, name):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, np.array([float(r[name]) if r[name] else np.nan for r in rows])


def test_demo_writes_kama_of_its_prices(tmp_path):
    res = run("--demo", "400", "--period", "14", "--out", "k.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "400 rows" in res.stdout
    rows, got = read_column(tmp_path / "k.csv", "kama_14")
    prices = np.array([float(r["close"]) for r in rows])
    np.testing.assert_array_equal(got, kama.kama(prices, 14))


def test_real_file_talib_mode(tmp_path):
    if not DATA.exists():
        pytest.skip(f"real data not present at {DATA}")
    res = run(DATA, "--column", "close", "--period", "30", "--compat", "talib", "--out", "k.csv", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows, got = read_column(tmp_path / "k.csv", "kama_30")
    assert list(rows[0])[:6] == ["timestamp_ms", "open", "close", "high", "low", "volume"]
    prices = np.loadtxt(DATA, delimiter=",", skiprows=1, usecols=2)
    np.testing.assert_array_equal(got, kama.kama(prices, 30, compat="talib"))


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    res = run("--demo", "300", "--plot", "k.png", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.csv"], "no such file"),
        ([], "give a CSV file or --demo"),
        (["--demo", "100", "--column", "open"], "no column 'open'"),
        (["--demo", "10", "--period", "30"], "Invalid period"),
        (["--demo", "100", "--kernel", "sse9"], "Unknown kernel"),
    ],
)
def test_errors_exit_2_with_a_message(tmp_path, args, message):
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert message in res.stderr
