"""Build of the native core kama._kama (metadata lives in pyproject.toml)."""
from pathlib import Path

import numpy
from setuptools import Extension, setup

SOURCES = sorted(str(p) for p in Path("csrc").rglob("*.cpp"))
HEADERS = sorted(str(p) for p in Path("csrc").rglob("*.hpp"))  # rebuild when a header changes

ext = Extension(
    "kama._kama",
    sources=SOURCES,
    depends=HEADERS,
    include_dirs=["csrc", numpy.get_include()],
    # One wheel for every CPython from 3.10 (stable ABI) and every NumPy from 1.23 on: built
    # against NumPy 2 headers, targeting the 1.23 C API.
    define_macros=[("NPY_TARGET_VERSION", "NPY_1_23_API_VERSION"), ("Py_LIMITED_API", "0x030A0000")],
    py_limited_api=True,
    language="c++",
    extra_compile_args=[
        "-std=c++17",
        "-O3",
        "-fvisibility=hidden",
        # Every kernel and the stream must round identically: no FMA contraction, no fast-math.
        "-ffp-contract=off",
        "-fno-math-errno",
        # Plain operator delete: the sized one needs a libstdc++ newer than manylinux2014's.
        "-fno-sized-deallocation",
        "-Wall",
        "-Wextra",
    ],
    # libpthread and libdl (stubs since glibc 2.34) hold the old thread and dlsym symbols bound
    # in csrc/kernels/glibc_symbols.hpp on older systems: keep them NEEDED even where the linker
    # sees nothing taken from them.
    extra_link_args=["-Wl,--push-state,--no-as-needed", "-l:libpthread.so.0", "-l:libdl.so.2", "-Wl,--pop-state"],
)

setup(ext_modules=[ext], options={"bdist_wheel": {"py_limited_api": "cp310"}})
