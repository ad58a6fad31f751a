"""The native contract (SPEC §6): ownership, alignment, refcounts, leaks, the GIL, dispatch,
docstrings."""
import doctest
import inspect
import os
import platform
import resource
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import ALL_KERNELS

from helpers import live_buffers

import kama

X = 100 + np.cumsum(np.random.default_rng(31).standard_normal(1000))


def test_results_own_aligned_cpp_memory():
    before = live_buffers()
    y = kama.kama(X, 10)
    b = kama.kama_batch(X, (3, 9, 3))
    s = kama.KamaStream(10).update_many(X)
    arrays = [y, b["values"], b["periods"], s]
    assert live_buffers() == before + 4
    for a in arrays:
        assert a.ctypes.data % 64 == 0
        assert type(a.base).__name__ == "PyCapsule"
        assert a.flags.c_contiguous and a.flags.writeable and not a.flags.owndata
    view = y[5:]
    del y, b, s, arrays, a
    assert live_buffers() == before + 1  # the view keeps its buffer alive
    del view
    assert live_buffers() == before


def test_refcounts_unchanged_after_many_calls():
    x = X.copy()
    out = np.empty_like(x)
    stream = kama.KamaStream(5)
    counts = [sys.getrefcount(o) for o in (x, out, stream)]
    before = live_buffers()
    for _ in range(2000):
        kama.kama(x, 10)
        kama.kama(x, 10, out=out)
        kama.kama_batch(x, (2, 6, 2))
        stream.update_many(x[:50])
        stream.update(1.0)
        for bad in ({"period": 0}, {"period": 5000}, {"compat": "x"}, {"kernel": "x"}):
            with pytest.raises(ValueError):
                kama.kama(x, **bad)
        with pytest.raises(TypeError):
            kama.kama(x, out=x.astype(np.float32))
    assert [sys.getrefcount(o) for o in (x, out, stream)] == counts
    assert live_buffers() == before


def test_no_memory_growth():
    x = np.random.default_rng(0).standard_normal(100_000).cumsum()
    for _ in range(50):
        kama.kama(x, 30)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(1000):  # 800 MB of results in all
        kama.kama(x, 30)
        kama.kama_batch(x, periods=[5, 9])
        kama.KamaStream(30).update_many(x)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    assert grown_kib < 32 * 1024, f"max RSS grew by {grown_kib} KiB"


def test_gil_is_released_during_the_computation():
    """With the GIL held, no Python code could run while the kernel fills `out`, so seeing
    `out` half-written from another thread proves the computation runs without it."""
    n = 5_000_000
    x = np.random.default_rng(1).standard_normal(n).cumsum()
    seen_partial = False
    for attempt in range(5):  # a loaded machine may not schedule this thread in the window
        out = np.full(n, -1.0)
        worker = threading.Thread(target=kama.kama, args=(x, 30), kwargs={"out": out, "threads": 1})
        worker.start()
        while worker.is_alive():
            if out[n // 2] != -1.0 and out[-1] == -1.0:
                seen_partial = True
                break
        worker.join()
        np.testing.assert_array_equal(out, kama.kama(x, 30, threads=1))
        if seen_partial:
            break
    assert seen_partial


def test_threads_compute_correct_results():
    xs = [np.random.default_rng(i).standard_normal(200_000).cumsum() for i in range(4)]
    want = [kama.kama(x, 21) for x in xs]
    got = [None] * 4

    def run(i):
        got[i] = kama.kama(xs[i], 21)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


# ---- dispatch ----------------------------------------------------------------------------------


def test_kernels_listing():
    names = kama.kernels()
    assert names[0] == "scalar" and set(names) <= set(ALL_KERNELS)
    for name in names:
        assert kama.kama([1.0, 2.0, 3.0], 1, kernel=name).shape == (3,)
    assert kama.kama([1.0, 2.0, 3.0], 1, kernel="auto").shape == (3,)


def test_unusable_kernels_are_refused_by_name():
    unusable = [k for k in ALL_KERNELS if k not in kama.kernels()]
    for name in unusable:  # none on a machine that runs every kernel
        with pytest.raises(ValueError, match=f"kernel '{name}' cannot run: "):
            kama.kama(X, 10, kernel=name)
        with pytest.raises(ValueError, match="cannot run"):
            kama.kama(X, 10, kernel=name + "_batch")
    assert len(unusable) + len(kama.kernels()) == len(ALL_KERNELS)


def _import_with_env(value, cwd):
    # cwd: away from a source checkout, whose unbuilt kama/ would shadow the installed one
    env = dict(os.environ, KAMA_KERNEL=value)
    return subprocess.run([sys.executable, "-c", "import kama; print(kama.kama([1.0,2.0,3.0],1)[-1])"],
                          env=env, capture_output=True, text=True, cwd=cwd)


def test_kama_kernel_environment_variable(tmp_path):
    assert _import_with_env("scalar", tmp_path).stdout.strip() == repr(kama.kama([1.0, 2.0, 3.0], 1)[-1].item())
    bad = _import_with_env("sse9", tmp_path)
    assert bad.returncode != 0 and "KAMA_KERNEL" in bad.stderr and "sse9" in bad.stderr
    for name in ALL_KERNELS:
        if name not in kama.kernels():
            refused = _import_with_env(name, tmp_path)
            assert refused.returncode != 0 and "cannot run" in refused.stderr


def _machine():
    m = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m, m)


def test_cpu_features_reported():
    feats = kama._kama.__cpu_features__
    flags = []
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = f.read().split()
    if _machine() == "x86_64":
        assert set(feats) >= {"AVX2", "FMA", "AVX512F", "AVX512DQ", "OS_AVX", "OS_AVX512"}
        if flags:
            assert feats["AVX2"] == ("avx2" in flags)
            assert feats["AVX512F"] == ("avx512f" in flags)
    elif _machine() == "aarch64":
        assert set(feats) == {"ASIMD"}
        if "Features" in flags:  # an ARM cpuinfo (qemu-user shows its host's)
            assert feats["ASIMD"] == ("asimd" in flags)
    else:
        assert feats == {}


def test_kernels_of_the_architecture():
    """Each architecture's SIMD kernel is built and listed there (NEON is in every ARMv8-A); a
    kernel of another architecture is refused as such, not as a CPU that lacks something."""
    other = {"x86_64": ["neon"], "aarch64": ["avx2", "avx512"]}.get(_machine(), ["avx2", "avx512", "neon"])
    if _machine() == "aarch64":
        assert kama.kernels() == ["scalar", "neon"]
    elif _machine() == "x86_64":
        assert "neon" not in kama.kernels()
    for name in other:
        with pytest.raises(ValueError, match=f"kernel '{name}' cannot run: it is for "
                           f"(x86-64|aarch64) and this build is for "):
            kama.kama(X, 10, kernel=name)


# ---- the Python face ------------------------------------------------------------------------------


def test_signatures():
    assert str(inspect.signature(kama.kama)) == (
        "(data, period=30, kernel=None, *, fast=2, slow=30, compat='vectorta', unstable_period=0, "
        "nan_policy='propagate', out=None, axis=-1, threads=None)")
    assert str(inspect.signature(kama.kama_batch)) == (
        "(data, period_range=(30, 30, 0), kernel=None, *, periods=None, fast=2, slow=30, compat='vectorta', "
        "unstable_period=0, nan_policy='propagate', threads=None)")
    assert str(inspect.signature(kama.KamaStream)) == (
        "(period=30, *, fast=2, slow=30, compat='vectorta', unstable_period=0, nan_policy='propagate')")
    assert str(inspect.signature(kama.KamaStream.update)) == "(self, value, /)"


@pytest.mark.parametrize("obj", [kama, kama.kama, kama.kama_batch, kama.KamaStream],
                         ids=["module", "kama", "kama_batch", "KamaStream"])
def test_docstring_examples(obj):
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    test = parser.get_doctest(obj.__doc__, {}, getattr(obj, "__name__", "kama"), None, 0)
    assert test.examples, "no example in the docstring"
    runner.run(test)
    assert runner.failures == 0


def test_version_and_stub():
    import pathlib
    assert kama.__version__.count(".") == 2
    pkg = pathlib.Path(kama.__file__).parent
    assert (pkg / "py.typed").exists() and (pkg / "__init__.pyi").exists()
