from collections.abc import Sequence
from typing import Any, Literal, TypedDict

import numpy as np
import numpy.typing as npt

__version__: str

Compat = Literal["vectorta", "talib", "tulipy", "pandas_ta"]
NanPolicy = Literal["propagate", "skip"]
Kernel = Literal["auto", "scalar", "avx2", "avx512", "neon", "scalar_batch", "avx2_batch", "avx512_batch", "neon_batch"]

class BatchResult(TypedDict):
    values: npt.NDArray[np.float64]
    periods: npt.NDArray[np.uint64]

def kama(
    data: npt.ArrayLike,
    period: int = 30,
    kernel: Kernel | None = None,
    *,
    fast: int = 2,
    slow: int = 30,
    compat: Compat = "vectorta",
    unstable_period: int = 0,
    nan_policy: NanPolicy = "propagate",
    out: npt.NDArray[np.float64] | None = None,
    axis: int = -1,
    threads: int | None = None,
) -> Any: ...  # an ndarray; a pandas/polars Series or DataFrame for one given
def kama_batch(
    data: npt.ArrayLike,
    period_range: tuple[int, int, int] = (30, 30, 0),
    kernel: Kernel | None = None,
    *,
    periods: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
    fast: int = 2,
    slow: int = 30,
    compat: Compat = "vectorta",
    unstable_period: int = 0,
    nan_policy: NanPolicy = "propagate",
    threads: int | None = None,
) -> Any: ...  # BatchResult for array data; a pandas/polars DataFrame for a Series or DataFrame
def kernels() -> list[str]: ...

class KamaStream:
    def __init__(
        self,
        period: int = 30,
        *,
        fast: int = 2,
        slow: int = 30,
        compat: Compat = "vectorta",
        unstable_period: int = 0,
        nan_policy: NanPolicy = "propagate",
    ) -> None: ...
    def update(self, value: float, /) -> float | None: ...
    def update_many(self, values: npt.ArrayLike, /, *, out: npt.NDArray[np.float64] | None = None) -> Any: ...  # ndarray (out when given), or a pandas/polars Series
    def peek(self, value: float, /) -> float | None: ...
    def reset(self) -> None: ...
    def copy(self) -> KamaStream: ...
    def __copy__(self) -> KamaStream: ...
    def __deepcopy__(self, memo: Any, /) -> KamaStream: ...
    @property
    def value(self) -> float | None: ...
    @property
    def ready(self) -> bool: ...
    @property
    def period(self) -> int: ...
    @property
    def fast(self) -> int: ...
    @property
    def slow(self) -> int: ...
    @property
    def compat(self) -> Compat: ...
    @property
    def unstable_period(self) -> int: ...
    @property
    def nan_policy(self) -> NanPolicy: ...
