"""The shipped wheel (SPEC 7): built and repaired by .ci/build-wheel, installed into fresh
virtual environments with the oldest and newest NumPy it supports and with the other CPython
versions found here, and the test suite run there against the installed package, not the
source tree. Slow (minutes): -m "not slow"
leaves it out."""
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if not (ROOT / ".ci" / "build-wheel").exists():
        pytest.skip("no source tree to build the wheel from")
    out = tmp_path_factory.mktemp("wheel")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    res = subprocess.run(["bash", str(ROOT / ".ci" / "build-wheel"), str(out)], env=env,
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "manylinux_2_17_x86_64" in res.stdout  # auditwheel show: the lowest tag allowed
    (whl,) = out.glob("kama-*-cp310-abi3-manylinux*_2_17_x86_64.whl")
    return whl


def interpreter(version):
    """A CPython `version` on this machine that runs (pyenv's own builds first: its shims on
    PATH fail for versions not selected), or None."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", "python3")))[::-1]
    candidates.append(shutil.which(f"python{version}"))
    for python in filter(None, candidates):
        ok = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if ok.returncode == 0 and ok.stdout.strip() == str(tuple(map(int, version.split(".")))):
            return python
    return None


def run_suite(wheel, numpy_spec, tmp_path, python=sys.executable, extra=()):
    """The suite against the installed wheel; `extra` packages go in beside it, and must import
    (so that the tests that need them run, not skip)."""
    env_dir = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(env_dir)], check=True, capture_output=True)
    py = env_dir / "bin" / "python"
    res = subprocess.run([str(py), "-m", "pip", "install", "--quiet", numpy_spec, "pytest", "hypothesis", *extra,
                          str(wheel)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    for package in extra:
        module = package.replace("-", "_")
        ok = subprocess.run([str(py), "-c", f"import {module}"], capture_output=True, text=True)
        assert ok.returncode == 0, f"{package} installed but does not import:\n{ok.stderr[-2000:]}"
    version = subprocess.run([str(py), "-c", "import numpy; print(numpy.__version__)"], capture_output=True,
                             text=True, check=True).stdout.strip()
    if "==" in numpy_spec:
        assert version == numpy_spec.split("==")[1]
    # The venv's pytest (not `python -m`), from a folder outside the source tree, so that kama
    # is the installed one (checked below).
    res = subprocess.run([str(env_dir / "bin" / "pytest"), str(ROOT / "tests"), "-q", "-x", "-rs",
                          "-p", "no:cacheprovider", "-m", "not slow"],
                         cwd=tmp_path, capture_output=True, text=True, env=dict(os.environ, KAMA_HYPOTHESIS="quick"))
    assert res.returncode == 0, f"numpy {version}:\n" + res.stdout[-4000:] + res.stderr[-2000:]
    skips = [line for line in res.stdout.splitlines() if line.startswith("SKIPPED")]
    for package in extra:  # the tests it was installed for ran
        assert not [line for line in skips if package in line], "\n".join(skips)
    where = subprocess.run([str(py), "-c", "import kama; print(kama._kama.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(env_dir)) and where.endswith("_kama.abi3.so"), where


# Each NumPy the wheel supports and each CPython it serves, once: the oldest NumPy under the
# oldest Python, and so on. Under 3.12 pandas-ta goes in too (it needs Python >= 3.12), so that
# tests/test_compat_peers.py compares compat="pandas_ta" with it there.
ENVIRONMENTS = [("3.10", "numpy==1.23.5", ()), ("3.11", "numpy==1.26.4", ()), ("3.12", "numpy>=2", ("pandas-ta",)),
                ("3.13", "numpy>=2", ())]


@pytest.mark.parametrize("version, numpy_spec, extra", ENVIRONMENTS, ids=[f"{v}-{n}" for v, n, _ in ENVIRONMENTS])
def test_one_wheel_for_every_cpython_and_numpy(wheel, version, numpy_spec, extra, tmp_path):
    """The same cp310-abi3 wheel under other CPython versions and NumPy releases."""
    python = interpreter(version)
    if python is None:
        pytest.skip(f"no CPython {version} on this machine")
    run_suite(wheel, numpy_spec, tmp_path, python, extra)
