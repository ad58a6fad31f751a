"""The SIMD kernels on inputs long enough to take their vector path (they hand short work to
the scalar kernel): lengths around the lane, chunk and superblock edges, NaNs in every lane,
spikes, flat stretches, misaligned views; against the scalar kernel and the exact reference."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import kama_exact
from helpers import assert_close

import kama

LANES = {"avx2": 4, "avx512": 8, "neon": 2}
CHUNK_TARGET = 8192  # csrc/kernels/simd_kama.hpp: simd_chunk_target


def chunk(p):
    """Outputs per lane in a whole superblock: the chunk target rounded up to whole blocks."""
    return p * -(-CHUNK_TARGET // p)


def walk(n, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return scale * (100 + np.cumsum(rng.standard_normal(n)))


def edges(kernel, p):
    """Output counts at which the vector path's structure changes."""
    lanes = LANES[kernel]
    full = chunk(p)
    threshold = max(3 * lanes * p, 112 * lanes)  # csrc/kernels/simd_kama.hpp: run_simd
    # Just past the threshold the lanes are a few blocks long and the last ones may start past n.
    short = {threshold + p - 1, threshold + lanes * p - 1, threshold + lanes * p + 1}
    out = short | {threshold - 1, threshold, threshold + 1, lanes * full - 1, lanes * full, lanes * full + 1,
           2 * lanes * full + p - 1, 2 * lanes * full + p, 3 * lanes * full + 7}
    return sorted(o for o in out if o > 0)


@pytest.mark.parametrize("p", [1, 2, 3, 7, 30, 64, 129, 700])
def test_lengths_at_vector_edges(simd, compat, p):
    for outputs in edges(simd, p):
        for lead in (0, 5):
            x = walk(lead + p + outputs, outputs + p)
            x[:lead] = np.nan
            want = kama.kama(x, p, kernel="scalar", compat=compat)
            assert_close(kama.kama(x, p, kernel=simd, compat=compat), want, x)


@pytest.mark.parametrize("p", [2, 30, 200])
def test_against_exact_reference(simd, compat, p):
    x = walk(12_000, p)
    x[3000:3400] = x[3000]  # a flat stretch
    assert_close(kama.kama(x, p, kernel=simd, compat=compat), kama_exact(x, p, compat=compat), x)


@pytest.mark.parametrize("where", [0.0, 0.12, 0.5, 0.87, 0.999])
def test_spike_leaves_no_lasting_error(simd, compat, where):
    n, p = 9000, 30
    x = walk(n, 3)
    ordinary = np.abs(x).max()
    k = int(where * (n - p - 2)) + p + 1
    x[k] = 1e12
    exact = np.array(kama_exact(x, p, compat=compat))
    got = kama.kama(x, p, kernel=simd, compat=compat)
    assert np.abs(got - exact)[p + 1 :].max() <= 1e-12 * 1e12
    after = slice(k + p + 1, n)
    err = np.abs(got[after] - exact[after])
    assert (err <= 1e-10 * np.abs(exact[after]) + 1e-12 * ordinary).all(), err.max()


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.3, 0.55, 0.8, 0.99])
def test_interior_nan_in_every_lane(simd, compat, fraction):
    n, p = 20_000, 14
    x = walk(n, 4)
    k = p + 2 + int(fraction * (n - p - 3))
    x[k] = np.nan
    got = kama.kama(x, p, kernel=simd, compat=compat)
    want = kama.kama(x, p, kernel="scalar", compat=compat)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got[k:]).all()
    assert_close(got, want, np.nan_to_num(x))


def test_nan_inside_the_first_window(simd, compat):
    x = walk(10_000, 5)
    x[3] = np.nan  # before the first output: VectorTA seeds, then NaN; TA-Lib NaN throughout
    got = kama.kama(x, 10, kernel=simd, compat=compat)
    np.testing.assert_array_equal(got, kama.kama(x, 10, kernel="scalar", compat=compat))


@pytest.mark.parametrize("off", [1, 3, 7])
def test_misaligned_views(simd, compat, off):
    base = walk(30_000 + off, 6)
    view = base[off:]
    assert view.ctypes.data % 64 != 0
    assert_close(kama.kama(view, 21, kernel=simd, compat=compat),
                 kama.kama(view.copy(), 21, kernel="scalar", compat=compat), view)


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e9])
def test_scales_and_smoothing_constants(simd, compat, scale):
    x = walk(8000, 7, scale)
    for fast, slow in [(1, 1), (2, 30), (5, 200), (1, 1000)]:
        assert_close(kama.kama(x, 9, kernel=simd, compat=compat, fast=fast, slow=slow),
                     kama.kama(x, 9, kernel="scalar", compat=compat, fast=fast, slow=slow), x)


def test_real_data(simd, compat, btc_close):
    for p in (5, 30, 300):
        assert_close(kama.kama(btc_close, p, kernel=simd, compat=compat),
                     kama_exact(btc_close, p, compat=compat), btc_close)


@settings(deadline=None, max_examples=40)
@given(n=st.integers(800, 40_000), p=st.integers(1, 300), seed=st.integers(0, 2**32 - 1),
       features=st.sets(st.sampled_from(["flat", "spike", "lead", "nan", "steps"])))
def test_random_long_series(simd, compat, n, p, seed, features):
    rng = np.random.default_rng(seed)
    x = 100 + np.cumsum(rng.standard_normal(n))
    if "steps" in features:
        x = np.round(x)  # many exactly flat windows
    if "flat" in features:
        a = rng.integers(0, n)
        x[a : a + rng.integers(1, 3 * p + 2)] = x[a]
    if "spike" in features:
        x[rng.integers(0, n)] = 1e9
    if "lead" in features:
        x[: rng.integers(0, min(n, 3 * p + 50))] = np.nan
    if "nan" in features:
        x[rng.integers(0, n)] = np.nan
    try:
        want = kama.kama(x, p, kernel="scalar", compat=compat)
    except ValueError:
        return
    assert_close(kama.kama(x, p, kernel=simd, compat=compat), want, np.nan_to_num(x))


def test_vector_path_is_taken(simd):
    """Long inputs run the lanes, not the scalar fallback: the lanes' fused multiply-adds round
    differently from the scalar kernel's, so some last bits differ (and stay within bounds)."""
    x = walk(50_000, 8)
    got, scalar = kama.kama(x, 30, kernel=simd), kama.kama(x, 30, kernel="scalar")
    assert not np.array_equal(got, scalar, equal_nan=True)
    assert_close(got, scalar, x)


# ---- threads: the same scan split across workers ----------------------------------------------

N_SPLIT = 400_000  # several superblocks per worker for either kernel


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_threads_agree_with_one_thread(simd, compat, threads):
    x = walk(N_SPLIT, 9)
    one = kama.kama(x, 30, kernel=simd, compat=compat, threads=1)
    many = kama.kama(x, 30, kernel=simd, compat=compat, threads=threads)
    assert_close(many, one, x)
    assert_close(many, kama.kama(x, 30, kernel="scalar", compat=compat), x)


@pytest.mark.parametrize("threads", [2, 3, 5])
@pytest.mark.parametrize("where", [0.1, 0.4999, 0.5, 0.5001, 0.9])
def test_threads_with_a_nan(simd, compat, where, threads):
    """A NaN in any worker's range makes every later output NaN, in later workers too."""
    x = walk(N_SPLIT, 10)
    k = int(where * N_SPLIT)
    x[k] = np.nan
    got = kama.kama(x, 17, kernel=simd, compat=compat, threads=threads)
    want = kama.kama(x, 17, kernel="scalar", compat=compat)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert_close(got, want, np.nan_to_num(x))


def test_threads_with_an_infinite_price_at_a_worker_boundary(simd, compat):
    """An infinite value carried into a worker is handed to the scalar kernel, whose result
    (NaN or inf where the sequential recurrence gives them) the SIMD path must reproduce."""
    n = N_SPLIT
    x = walk(n, 15)
    lanes = LANES[simd]
    span = lanes * chunk(30)
    for b in (30 + span * ((n // span) // 2),):  # the second worker's first output
        y = x.copy()
        y[b - 1] = np.inf
        got = kama.kama(y, 30, kernel=simd, compat=compat, threads=2)
        want = kama.kama(y, 30, kernel="scalar", compat=compat)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got), np.isinf(want))


def test_huge_period_goes_to_the_scalar_loop(simd, compat):
    """A ring of transposed rows for a period past a chunk would outgrow the input: the scalar
    loop runs instead, with fused multiply-adds (so to rounding, not bit for bit)."""
    x = walk(200_000, 16)
    p = 20_000
    got, want = kama.kama(x, p, kernel=simd, compat=compat), kama.kama(x, p, kernel="scalar", compat=compat)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert_close(got, want, x)


@pytest.mark.parametrize("n", [300, 1000, 2000])
def test_short_series_fuse_and_stay_exact(simd, compat, n):
    """Below the lanes' threshold the SIMD kernels run the scalar loop with fused multiply-adds:
    within SPEC 2 of the exact reference, and not the scalar kernel's bits (so the fused path
    is the one running)."""
    # Prices swinging through 0: c (x - y) is as large as y, so fusing changes many last bits.
    x = np.sin(np.arange(n) * 0.37) * 1e3 + np.random.default_rng(n).standard_normal(n)
    got = kama.kama(x, 10, kernel=simd, compat=compat)
    assert_close(got, kama_exact(x, 10, compat=compat), x)
    assert (got != kama.kama(x, 10, kernel="scalar", compat=compat)).sum() > n // 10


def test_threads_spike_at_the_second_worker(simd, compat):
    n, p = 300_000, 30
    x = walk(n, 11)
    ordinary = np.abs(x).max()
    lanes = LANES[simd]
    span = lanes * chunk(p)  # outputs per superblock; two workers split the superblocks in half
    k = p + (-(-(n - p) // span) // 2) * span + 5  # just inside the second worker's first lane
    x[k] = 1e12
    got = kama.kama(x, p, kernel=simd, compat=compat, threads=2)
    want = kama.kama(x, p, kernel="scalar", compat=compat)
    after = slice(k + p + 1, n)
    err = np.abs(got[after] - want[after])
    assert (err <= 1e-10 * np.abs(want[after]) + 1e-12 * ordinary).all(), err.max()


def test_threads_with_slow_decay_fall_back(simd, compat):
    """With ER = 0 and slow=200, c = 1e-4: the carry into the second worker is still ~1e-3 of
    itself after a superblock, far above 2^-60, so the kernel must compute on one thread
    rather than drop it (which would be off by ~0.1 here)."""
    x = 100 + np.where(np.arange(N_SPLIT) % 2 == 0, 1.0, -1.0)  # ER = 0 for an even period
    x[: N_SPLIT // 3] += 50  # so that the second worker starts far from its own start
    got = kama.kama(x, 10, kernel=simd, compat=compat, slow=200, threads=2)
    want = kama.kama(x, 10, kernel="scalar", compat=compat, slow=200)
    assert_close(got, want, x)


def test_threads_argument():
    x = walk(1000, 13)
    np.testing.assert_array_equal(kama.kama(x, 5, threads=1), kama.kama(x, 5, threads=None))
    with pytest.raises(ValueError, match="threads"):
        kama.kama(x, 5, threads=0)
    with pytest.raises(TypeError, match="threads"):
        kama.kama(x, 5, threads=1.5)
    assert kama.kama(x, 5, threads=10_000).shape == x.shape


@pytest.mark.parametrize("before", [1, 10, 40])
def test_spike_just_before_a_lane_starts(simd, compat, before):
    """A lane that starts while the output still carries a 1e15 tick starts from a carry of
    ~1e14; its head correction must last until the carry no longer shows relative to the
    output (~100), not merely relative to the largest price. Full-length lanes, so that the
    head ends inside them; the scalar kernel (5e-13 from the exact reference on such data, see
    bench_accuracy.py) is the yardstick."""
    p, lanes = 30, LANES[simd]
    n = p + lanes * chunk(p)  # one whole superblock
    x = walk(n, 14)
    k = p + min(2, lanes - 1) * chunk(p) - before  # just before lane 2 starts (lane 1 of NEON's 2)
    x[k] = 1e15
    want = kama.kama(x, p, kernel="scalar", compat=compat)
    got = kama.kama(x, p, kernel=simd, compat=compat, threads=1)
    after = slice(k + p + 1, n)
    rel = np.abs(got[after] - want[after]) / np.abs(want[after])
    assert rel.max() <= 1e-10, rel.max()
