"""Many at once: 2-D input (one series per row or column) and kama_batch with threads. Every
series equals its own 1-D call (threads=1) bit for bit, with the kernel that helpers.panel_kernel
names (the scalar kernel's arithmetic once a SIMD kernel runs series side by side), whatever the
layout or thread count."""
import numpy as np
import pytest

from conftest import native_rlimit
from helpers import PANEL_LANES, live_buffers, panel_kernel, panel_kernels, sweep_kernel, valid_for

import kama


def panel(rows, n, seed=0, lead=None):
    rng = np.random.default_rng(seed)
    x = 100 + np.cumsum(rng.standard_normal((rows, n)), axis=1)
    if lead is not None:  # different leading NaN runs per series
        for k in range(rows):
            x[k, : (k * 7) % lead] = np.nan
    return x


def one_by_one(x2d, period, kernel=None, compat="vectorta", **kw):
    if not len(x2d):
        return np.empty(x2d.shape)
    ks = panel_kernels(kernel, x2d, period, compat, kw.get("nan_policy", "propagate"))
    return np.stack([kama.kama(row, period, kernel=k, compat=compat, threads=1, **kw) for row, k in zip(x2d, ks)])


@pytest.mark.parametrize("shape", [(1, 500), (3, 31), (7, 5000), (64, 2100), (2, 70_000)])
def test_rows_equal_single_calls(kernel, compat, shape):
    x = panel(*shape, lead=25 if shape[1] > 100 else None)
    want = one_by_one(x, 30, kernel=kernel, compat=compat)
    for threads in (1, 2, None):
        got = kama.kama(x, 30, kernel=kernel, compat=compat, threads=threads)
        np.testing.assert_array_equal(got, want)


def mixed_panel(rows, n, seed=0):
    """Runs of series that share a first valid index (more and fewer than a group of lanes),
    lone ones, a NaN inside one series and an infinity inside another."""
    x = panel(rows, n, seed=seed)
    firsts = [0] * (rows // 2) + [13] * (rows // 4)
    firsts += [20 + 3 * k for k in range(rows - len(firsts))]
    for k, f in enumerate(np.random.default_rng(seed).permutation(firsts)):
        x[k, :f] = np.nan
    x[1, n // 2] = np.nan
    x[2, n // 3] = np.inf
    return x


@pytest.mark.parametrize("period", [1, 2, 30, 700])
def test_series_side_by_side_equal_the_scalar_kernel(simd, compat, period):
    """The many-series kernel in groups (the last overlapping the one before), lone series,
    unstable_period and threads: every row run in a group is the scalar kernel's, bit for bit,
    and every lone one its own 1-D call on the kernel given."""
    x = mixed_panel(PANEL_LANES[simd] * 3 + 5, 3001, seed=period)
    kernels = panel_kernels(simd, x, period, compat)
    assert (period == 1 and compat == "talib") or {"scalar", simd} <= set(kernels)
    for unstable in (0, 7):
        want = np.stack([kama.kama(row, period, kernel=k, compat=compat, unstable_period=unstable, threads=1)
                         for row, k in zip(x, kernels)])
        for threads in (1, 2, None):
            got = kama.kama(x, period, kernel=simd, compat=compat, unstable_period=unstable, threads=threads)
            np.testing.assert_array_equal(got, want)


def test_lone_series_run_the_kernel_given(simd):
    """Series that start on bars of their own (different listing dates) are not held to the
    scalar kernel: each equals its own SIMD call, and differs from kernel="scalar" somewhere."""
    x = panel(PANEL_LANES[simd] * 2, 20_000, seed=5)
    for k in range(len(x)):
        x[k, : 3 * k + 1] = np.nan
    got = kama.kama(x, 30, kernel=simd)
    for k, row in enumerate(x):
        np.testing.assert_array_equal(got[k], kama.kama(row, 30, kernel=simd, threads=1))
    assert any((got[k] != kama.kama(row, 30, kernel="scalar"))[~np.isnan(got[k])].any() for k, row in enumerate(x))


@pytest.mark.parametrize("n", [3, 7, 8, 9, 31, 33, 64, 65])
def test_series_side_by_side_short(simd, compat, n):
    """Lengths around a tile of lanes and around the first output."""
    lanes = PANEL_LANES[simd]
    for period in (2, 5, n - 2, n - 1, n):
        x = panel(lanes + 1, n, seed=n + period)
        if period < 1 or not valid_for(x[0], period, compat):
            continue
        want = np.stack([kama.kama(row, period, kernel="scalar", compat=compat) for row in x])
        np.testing.assert_array_equal(kama.kama(x, period, kernel=simd, compat=compat), want)


@pytest.mark.parametrize("n", [140_000, 140_003])
def test_series_side_by_side_large(simd, n):
    """Results large enough to bypass the cache, rows aligned to a vector or not."""
    x = panel(PANEL_LANES[simd], n, seed=11)
    want = np.stack([kama.kama(row, 30, kernel="scalar") for row in x])
    np.testing.assert_array_equal(kama.kama(x, 30, kernel=simd), want)
    np.testing.assert_array_equal(kama.kama(x.T, 30, kernel=simd, axis=0), want.T)


def test_series_side_by_side_long_period(simd):
    """A period past the many-series kernel's limit runs each series on the kernel itself."""
    x = panel(PANEL_LANES[simd], 140_000, seed=12)
    for period in (65_536, 65_537):
        want = np.stack([kama.kama(row, period, kernel=panel_kernel(simd, len(x), period)) for row in x])
        np.testing.assert_array_equal(kama.kama(x, period, kernel=simd), want)


def test_columns_with_axis_0(kernel, compat):
    x = panel(9, 3000, seed=1, lead=40)
    want = one_by_one(x, 14, kernel=kernel, compat=compat)
    got = kama.kama(np.asfortranarray(x.T), 14, kernel=kernel, compat=compat, axis=0)
    assert got.shape == x.T.shape
    np.testing.assert_array_equal(got, want.T)
    np.testing.assert_array_equal(kama.kama(x.T.copy(), 14, kernel=kernel, compat=compat, axis=-2), want.T)


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed", "float32", "int", "list"])
def test_layouts(layout):
    x = panel(6, 400, seed=2)
    want = one_by_one(x, 10)
    data = {
        "fortran": np.asfortranarray(x),
        "strided": np.repeat(x, 2, axis=1)[:, ::2],
        "reversed": x[::-1][::-1],
        "float32": x.astype(np.float32),
        "int": x.astype(np.int64),
        "list": x.tolist(),
    }[layout]
    if layout in ("float32", "int"):
        want = one_by_one(np.asarray(data, dtype=np.float64), 10)
    np.testing.assert_array_equal(kama.kama(data, 10), want)


def test_shortest_series():
    x = panel(4, 11, seed=3)
    np.testing.assert_array_equal(kama.kama(x, 10), one_by_one(x, 10))


def test_zero_length_axes():
    assert kama.kama(np.empty((0, 50)), 10).shape == (0, 50)
    assert kama.kama(np.empty((50, 0)), 10, axis=0).shape == (50, 0)
    with pytest.raises(ValueError, match=r"series 0\): Input data slice is empty"):
        kama.kama(np.empty((3, 0)), 10)


def test_errors_name_the_series():
    x = panel(5, 100, seed=4)
    x[3] = np.nan
    with pytest.raises(ValueError, match=r"series 3\): All values are NaN"):
        kama.kama(x, 10)
    x = panel(5, 100, seed=4)
    x[2, :95] = np.nan
    with pytest.raises(ValueError, match=r"series 2\): Not enough valid data: needed = 11, valid = 5"):
        kama.kama(x, 10)
    with pytest.raises(ValueError, match="out of bounds"):
        kama.kama(x, 10, axis=-3)


@pytest.mark.parametrize("axis", [-1, 0])
def test_out_2d(axis):
    x = panel(4, 300, seed=5)
    data = x if axis == -1 else x.T
    want = kama.kama(data, 12, axis=axis)
    for out in (np.empty(data.shape), np.empty(data.shape, order="F"), np.zeros((data.shape[0], 2 * data.shape[1]))[:, ::2]):
        assert kama.kama(data, 12, axis=axis, out=out) is out
        np.testing.assert_array_equal(out, want)
    inplace = data.copy()
    kama.kama(inplace, 12, axis=axis, out=inplace)
    np.testing.assert_array_equal(inplace, want)
    with pytest.raises(ValueError, match="shape"):
        kama.kama(data, 12, axis=axis, out=np.empty(data.shape[::-1]) if data.shape[0] != data.shape[1] else np.empty((1, 1)))


def test_out_untouched_on_error():
    x = panel(3, 50, seed=6)
    x[1] = np.nan
    out = np.full(x.shape, 7.0)
    with pytest.raises(ValueError):
        kama.kama(x, 10, out=out)
    assert (out == 7.0).all()


def test_results_own_aligned_memory_2d():
    x = panel(3, 1000, seed=7)
    before = live_buffers()
    r = kama.kama(x, 10)
    c = kama.kama(x.T, 10, axis=0)
    assert live_buffers() == before + 2
    assert r.ctypes.data % 64 == 0 and type(r.base).__name__ == "PyCapsule"
    assert c.base is not None and type(c.base.base).__name__ == "PyCapsule"  # a transposed view
    del r, c
    assert live_buffers() == before


# ---- kama_batch with threads ------------------------------------------------------------------


def test_batch_threads_identical(kernel, compat):
    x = 100 + np.cumsum(np.random.default_rng(8).standard_normal(40_000))
    one = kama.kama_batch(x, (2, 40, 3), kernel=kernel, compat=compat, threads=1)
    for threads in (2, 5, None):
        many = kama.kama_batch(x, (2, 40, 3), kernel=kernel, compat=compat, threads=threads)
        np.testing.assert_array_equal(many["values"], one["values"])
    single = sweep_kernel(kernel, len(one["periods"]))
    for row, p in zip(one["values"], one["periods"]):
        np.testing.assert_array_equal(row, kama.kama(x, int(p), kernel=single, compat=compat, threads=1))


def test_batch_threads_argument():
    x = np.arange(100.0)
    with pytest.raises(ValueError, match="threads"):
        kama.kama_batch(x, (2, 5, 1), threads=0)
    assert kama.kama_batch(x, (2, 5, 1), threads=64)["values"].shape == (4, 100)


@native_rlimit
def test_memory_error_leaves_out_untouched(tmp_path):
    """SPEC 5: a result that cannot be allocated is a MemoryError with nothing half-written.
    A child process caps its address space just above what it holds, so the 80 MB buffer that
    2-D out= is filled from cannot be had."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import resource, numpy as np, kama
        x = 100 + np.cumsum(np.ones((100, 100_000)), axis=1)
        out = np.full_like(x, 7.0)
        with open("/proc/self/status") as f:
            vm = next(int(l.split()[1]) for l in f if l.startswith("VmSize")) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (vm + 40 * 2**20, resource.RLIM_INFINITY))
        try:
            kama.kama(x, 10, out=out)
        except MemoryError:
            print("MemoryError", bool((out == 7.0).all()))
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert res.stdout.strip() == "MemoryError True", res.stdout + res.stderr
