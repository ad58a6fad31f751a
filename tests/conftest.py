import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import kama

# KAMA_HYPOTHESIS=stress runs 20x the examples, for a search before a release; "quick" a fifth,
# for the wheel test's other environments (they check the binary there; the search depth is
# the main run's).
settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("stress", max_examples=3000, deadline=None)
settings.register_profile("quick", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("KAMA_HYPOTHESIS", "default"))

ALL_KERNELS = ("scalar", "avx2", "avx512", "neon")

# Set by .ci/aarch64, which runs the suite under user-mode emulation (qemu-aarch64-static).
EMULATED = os.environ.get("KAMA_EMULATED", "")
native_rlimit = pytest.mark.skipif(
    bool(EMULATED), reason=f"under {EMULATED} RLIMIT_AS bounds the emulator's address space (it reserves "
    "the guest's up front), not the test's allocations")
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "btcusd_4h_bitfinex.csv"


def kernel_unusable(name):
    """Why `name` cannot run here (the extension's own words), or None."""
    if name in kama.kernels():
        return None
    try:
        kama.kama([1.0, 2.0, 3.0], 1, kernel=name)
    except ValueError as exc:
        return str(exc)
    return f"{name} runs but is not listed by kama.kernels()"


def _usable(request):
    why = kernel_unusable(request.param)
    if why:
        pytest.skip(why)
    return request.param


@pytest.fixture(params=ALL_KERNELS, scope="session")
def kernel(request):
    return _usable(request)


@pytest.fixture(params=ALL_KERNELS[1:], scope="session")
def simd(request):
    """The SIMD kernels only."""
    return _usable(request)


COMPATS = ("vectorta", "talib", "tulipy", "pandas_ta")


@pytest.fixture(params=COMPATS, scope="session")
def compat(request):
    return request.param


@pytest.fixture(scope="session")
def btc_close():
    if not DATA.exists():
        pytest.skip(f"real data not present at {DATA}")
    return np.loadtxt(DATA, delimiter=",", skiprows=1, usecols=2)


PEERS = ("TA-Lib", "vector-ta", "tulipy", "ta", "pandas-ta-classic", "pandas-ta")


def pytest_report_header(config):
    from importlib import metadata

    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"
    return [
        "peers: " + ", ".join(f"{name} {version(name)}" for name in PEERS),
        f"kama {kama.__version__} from {os.path.dirname(kama.__file__)}",
        f"kernels usable here: {kama.kernels()}",
        "cpu features: " + ", ".join(k for k, v in kama._kama.__cpu_features__.items() if v),
    ]
