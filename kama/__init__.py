"""kama: Kaufman's Adaptive Moving Average, computed by a C++ core.

One series, many periods, or bar by bar:

>>> import numpy as np, kama
>>> prices = 100 + np.cumsum(np.random.default_rng(0).standard_normal(500))
>>> y = kama.kama(prices, 30)                      # NaN for the 30-bar warm-up
>>> bool(np.isnan(y[:30]).all()) and bool(np.isfinite(y[30:]).all())
True
>>> sweep = kama.kama_batch(prices, (10, 40, 10))  # rows for periods 10, 20, 30, 40
>>> bool(np.allclose(sweep["values"][2], y, rtol=1e-14, atol=0, equal_nan=True))
True
>>> stream = kama.KamaStream(30)                    # bit for bit the scalar kernel's numbers
>>> np.array_equal(stream.update_many(prices), kama.kama(prices, 30, kernel="scalar"), equal_nan=True)
True

compat="talib" gives TA-Lib's TA_KAMA, "tulipy" Tulip Indicators' kama, "pandas_ta" pandas-ta's;
fast= and slow= set the smoothing constants.
"""
try:
    from ._kama import KamaStream, kama, kama_batch, kernels
except ImportError as exc:  # pragma: no cover - only in an unbuilt source tree
    raise ImportError(
        f"kama's native core is not built in {__path__[0]}: this is the source tree. "
        "Install with `pip install .` and run the `kama` command or `python -m kama` from "
        "another folder, or build in place with `python setup.py build_ext --inplace`."
    ) from exc

__version__ = "0.1.0"
__all__ = ["KamaStream", "kama", "kama_batch", "kernels", "__version__"]
