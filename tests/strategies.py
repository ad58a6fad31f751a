"""Hypothesis strategies for price series with the features that break KAMA implementations."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

SCALES = (1e-6, 1e-3, 1.0, 1e3, 1e6, 1e9)


@st.composite
def price_series(draw, max_size=260, nan=True):
    """Random walks of any scale, with flat stretches, spikes, leading NaNs and, when `nan`,
    an interior NaN."""
    n = draw(st.integers(0, max_size))
    scale = draw(st.sampled_from(SCALES))
    level = draw(st.floats(-1e3, 1e3, allow_nan=False)) * scale * 10
    steps = draw(arrays(np.float64, n, elements=st.floats(-1.0, 1.0, allow_nan=False, width=32)))
    x = level + scale * np.cumsum(steps)
    if n and draw(st.booleans()):  # flat stretch
        a = draw(st.integers(0, n - 1))
        b = draw(st.integers(a, n))
        x[a:b] = x[a]
    if n and draw(st.integers(0, 4)) == 0:  # outlier tick
        k = draw(st.integers(0, n - 1))
        x[k] = level + scale * draw(st.sampled_from([1e4, -1e4, 1e6]))
    if n and draw(st.integers(0, 3)) == 0:  # leading NaNs
        x[: draw(st.integers(0, n))] = np.nan
    if nan and n and draw(st.integers(0, 5)) == 0:  # interior NaN
        x[draw(st.integers(0, n - 1))] = np.nan
    return x


periods = st.integers(1, 40)
