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
    define_macros=[("NPY_TARGET_VERSION", "NPY_1_23_API_VERSION")],
    language="c++",
    extra_compile_args=[
        "-std=c++17",
        "-O3",
        "-fvisibility=hidden",
        # Every kernel and the stream must round identically: no FMA contraction, no fast-math.
        "-ffp-contract=off",
        "-fno-math-errno",
        "-Wall",
        "-Wextra",
    ],
)

setup(ext_modules=[ext])
