"""Comparison helpers shared by the test files."""
import gc
import os

import numpy as np
from reference import kama_exact

import kama


def live_buffers():
    """Result buffers alive, counted after a garbage collection: an earlier test's reference
    cycle (an exception's traceback, say) may still hold one, and free it mid-test."""
    gc.collect()
    return kama._kama._live_buffers()


# Series that a SIMD kernel's many-series variant takes at once (csrc/kernels/simd_rows.hpp).
PANEL_LANES = {"avx2": 4, "avx512": 8, "neon": 2}


def panel_kernel(kernel, rows, period, compat="vectorta", nan_policy="propagate"):
    """The kernel whose 1-D results the rows of a 2-D kama() call equal bit for bit, for `rows`
    series that share their first valid index: with a SIMD kernel, at least its lanes of such
    series, nan_policy="propagate", not TA-Lib's copy of period 1 and period <= 65536, they run
    side by side on the scalar kernel's arithmetic; otherwise each runs on the kernel itself."""
    name = kernel if kernel not in (None, "auto") else os.environ.get("KAMA_KERNEL") or kama.kernels()[-1]
    name = name.removesuffix("_batch")
    lanes = PANEL_LANES.get(name)
    many = (lanes is not None and rows >= lanes and nan_policy == "propagate" and period <= 1 << 16
            and not (compat == "talib" and period == 1))
    return "scalar" if many else name


def panel_kernels(kernel, x2d, period, compat="vectorta", nan_policy="propagate"):
    """panel_kernel for each row of x2d: a row is grouped with the rows that share its first
    valid index (when a recurrence step follows it: first + period < n)."""
    x2d = np.asarray(x2d, dtype=np.float64)
    n = x2d.shape[1]
    valid = ~np.isnan(x2d)
    firsts = np.where(valid.any(axis=1), valid.argmax(axis=1), n)
    counts = {f: int((firsts == f).sum()) for f in set(firsts.tolist())}
    return [panel_kernel(kernel, counts[f] if f + period < n else 1, period, compat, nan_policy)
            for f in firsts.tolist()]


def sweep_kernel(kernel, periods, nan_policy="propagate"):
    """The kernel whose 1-D results the rows of kama_batch equal bit for bit: with a SIMD kernel,
    at least its lanes of periods and nan_policy="propagate", the periods run side by side on
    the scalar kernel's arithmetic (every row, the ones left over too); otherwise each row runs
    on the kernel itself."""
    name = kernel if kernel not in (None, "auto") else os.environ.get("KAMA_KERNEL") or kama.kernels()[-1]
    name = name.removesuffix("_batch")
    lanes = PANEL_LANES.get(name)
    return "scalar" if lanes is not None and periods >= lanes and nan_policy == "propagate" else name


def valid_for(x, period, compat):
    """Whether SPEC §5 accepts (x, period) in this mode."""
    n = len(x)
    finite = ~np.isnan(x)
    if period < 1:
        return False
    if compat == "talib":  # any data: empty, all-NaN or short input gives NaN (SPEC §1)
        return True
    if n == 0 or not finite.any():
        return False
    first = int(np.argmax(finite))
    # VectorTA's first output needs period + 1 valid values; the tulipy and pandas_ta seeds period.
    return period <= n and n - first >= period + (compat == "vectorta")


def assert_close(got, want, x, rel=1e-12):
    """Same NaN positions; finite values within rel * max|x| (SPEC §2)."""
    got, want = np.asarray(got), np.asarray(want, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg="NaN positions differ")
    finite = np.abs(np.asarray(x, dtype=np.float64))
    bound = rel * np.nanmax(finite) if np.isfinite(finite).any() else 0.0
    err = np.abs(got - want)[~np.isnan(want)]
    if err.size:
        assert err.max() <= bound, f"max error {err.max():.3e} > bound {bound:.3e}"


def assert_matches_peer(ours, peer, x, period, compat, rel=1e-11):
    """The peer's numbers and NaN positions, except where the peer drifts (its running window
    sum keeps old rounding errors, and can cancel to 0 or below): there ours must equal the
    exact reference, NaN for NaN."""
    ours, peer = np.asarray(ours), np.asarray(peer)
    assert ours.shape == peer.shape
    if not (~np.isnan(np.asarray(x, dtype=np.float64))).any():  # empty or all NaN: NaN for NaN
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(peer))
        return
    bound = rel * np.nanmax(np.abs(x))
    with np.errstate(invalid="ignore"):
        differ = np.flatnonzero((np.isnan(ours) != np.isnan(peer)) | (np.abs(ours - peer) > bound))
    if differ.size == 0:
        return
    finite = ~np.isnan(x)
    first = int(np.argmax(finite))
    stop = first + int(np.argmin(finite[first:])) if not finite[first:].all() else len(x)
    assert differ.max() < stop, "disagreement after an interior NaN"
    exact = np.array(kama_exact(x[:stop], period, compat=compat))[differ]
    mine = ours[differ]
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(exact), err_msg="NaN where the exact one has none")
    err = np.abs(mine - exact)[~np.isnan(exact)]
    assert err.size == 0 or err.max() <= 1e-12 * np.nanmax(np.abs(x)), (
        f"ours differs from the peer and from the exact reference by {err.max():.3e}")
