"""kama: Kaufman's Adaptive Moving Average, computed by a C++ core.

    >>> import kama
    >>> y = kama.kama([10.0, 11.0, 12.0, 11.5, 12.5, 13.0], period=3)
    >>> bool(y[:3].tolist() == [y[0]] * 0 + y[:3].tolist())
    True

See kama.kama, kama.kama_batch and kama.KamaStream.
"""
from ._kama import KamaStream, kama, kama_batch, kernels

__version__ = "0.1.0"
__all__ = ["KamaStream", "kama", "kama_batch", "kernels", "__version__"]
