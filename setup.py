"""Build of the native core kama._kama (metadata lives in pyproject.toml).

Any C++17 compiler: GCC or Clang (Linux, macOS) or MSVC (Windows). The x86-64 kernels are
compiled only for x86-64 and the NEON kernel only for aarch64 (csrc/kernels/cpu.hpp decides, from
the compiler's own target macros); the scalar kernel is the fallback everywhere.
"""
import platform
import sys
from pathlib import Path

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCES = sorted(str(p) for p in Path("csrc").rglob("*.cpp"))
HEADERS = sorted(str(p) for p in Path("csrc").rglob("*.hpp"))  # rebuild when a header changes

GNU_FLAGS = [  # GCC and Clang
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
]
MSVC_FLAGS = ["/std:c++17", "/O2", "/fp:precise", "/W3"]  # /fp:precise: no contraction either
# libpthread and libdl (stubs since glibc 2.34) hold the old thread and dlsym symbols bound in
# csrc/kernels/glibc_symbols.hpp on older systems: keep them NEEDED even where the linker sees
# nothing taken from them. glibc Linux only (musl has neither file).
LINUX_LINK = ["-Wl,--push-state,--no-as-needed", "-l:libpthread.so.0", "-l:libdl.so.2", "-Wl,--pop-state"]


class BuildExt(build_ext):
    """Flags by the compiler that setuptools picked, not by a guess at it."""

    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        for ext in self.extensions:
            ext.extra_compile_args = MSVC_FLAGS if msvc else GNU_FLAGS
            glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
            ext.extra_link_args = LINUX_LINK if glibc else []
        super().build_extensions()


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
)

setup(
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExt},
    options={"bdist_wheel": {"py_limited_api": "cp310"}},
)
