"""KamaStream: bit for bit the scalar kernel, and the streaming extras."""
import copy
import pickle
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import periods, price_series

import kama


def scalar_or_nan(x, period, compat, **kw):
    try:
        return kama.kama(x, period, kernel="scalar", compat=compat, **kw)
    except ValueError:
        return None


@settings(deadline=None)
@given(x=price_series(max_size=150), period=periods, fast=st.integers(1, 6), slow=st.integers(1, 50),
       unstable=st.integers(0, 40))
def test_update_equals_scalar_kernel_bit_for_bit(compat, x, period, fast, slow, unstable):
    want = scalar_or_nan(x, period, compat, fast=fast, slow=slow, unstable_period=unstable)
    s = kama.KamaStream(period, fast=fast, slow=slow, compat=compat, unstable_period=unstable)
    got = []
    for v in x:
        peeked = s.peek(v)
        out = s.update(v)
        assert (peeked is None and out is None) or np.array_equal(peeked, out, equal_nan=True)
        assert s.ready == (out is not None) or s.ready  # ready never goes back
        got.append(np.nan if out is None else out)
    if want is not None:
        np.testing.assert_array_equal(np.array(got), want)
    many = kama.KamaStream(period, fast=fast, slow=slow, compat=compat, unstable_period=unstable).update_many(x)
    np.testing.assert_array_equal(many, np.array(got, dtype=np.float64))


def test_real_data_stream(btc_close, compat):
    for period in (1, 10, 30):
        s = kama.KamaStream(period, compat=compat)
        np.testing.assert_array_equal(s.update_many(btc_close), kama.kama(btc_close, period, kernel="scalar", compat=compat))


def test_update_many_in_pieces_equals_one_call(compat):
    x = 100 + np.cumsum(np.random.default_rng(0).standard_normal(1000))
    whole = kama.KamaStream(17, compat=compat).update_many(x)
    s = kama.KamaStream(17, compat=compat)
    parts = [s.update_many(x[a:b]) for a, b in [(0, 5), (5, 17), (17, 18), (18, 400), (400, 1000)]]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_warm_up_value_ready_and_period():
    s = kama.KamaStream(3)
    assert s.period == 3 and s.fast == 2 and s.slow == 30 and s.compat == "vectorta"
    assert s.value is None and not s.ready
    assert [s.update(v) for v in (np.nan, 1.0, 2.0, 3.0)] == [None, None, None, None]
    assert s.update(4.0) == 4.0  # vectorta seeds with the price itself
    assert s.ready and s.value == 4.0
    s.reset()
    assert s.value is None and not s.ready
    assert s.update(1.0) is None


def test_talib_period_one_copies():
    s = kama.KamaStream(1, compat="talib")
    assert [s.update(v) for v in (np.nan, 1.0, 5.0)] == [None, 1.0, 5.0]


def test_peek_leaves_state_unchanged(compat):
    x = 100 + np.cumsum(np.random.default_rng(1).standard_normal(200))
    a, b = kama.KamaStream(7, compat=compat), kama.KamaStream(7, compat=compat)
    for v in x:
        a.peek(v * 1.5)
        a.peek(np.nan)
        assert a.update(v) == b.update(v) or (a.value is None and b.value is None)


def test_copy_pickle_deepcopy_continue_identically(compat):
    x = 100 + np.cumsum(np.random.default_rng(2).standard_normal(300))
    s = kama.KamaStream(11, fast=3, slow=20, compat=compat)
    s.update_many(x[:123])
    twins = [s.copy(), copy.copy(s), copy.deepcopy(s)]
    twins += [pickle.loads(pickle.dumps(s, protocol=p)) for p in range(2, pickle.HIGHEST_PROTOCOL + 1)]
    want = s.update_many(x[123:])
    for t in twins:
        assert (t.period, t.fast, t.slow, t.compat) == (11, 3, 20, compat)
        np.testing.assert_array_equal(t.update_many(x[123:]), want)


def test_copy_is_independent():
    s = kama.KamaStream(2)
    s.update_many([1.0, 2.0, 3.0])
    t = s.copy()
    t.update(100.0)
    assert s.value == 3.0 and t.value != 3.0


@pytest.mark.parametrize(
    "state",
    [None, (), ("x",), (2, 30, "vectorta", 0, 0, 0, 3, 0.0, 0.0, 0.0, b"\0" * 10),
     (2, 30, "vectorta", 9, 0, 0, 3, 0.0, 0.0, 0.0, b"\0" * 48)],
)
def test_setstate_rejects_malformed(state):
    s = kama.KamaStream(3)
    with pytest.raises((ValueError, TypeError)):
        s.__setstate__(state)


def test_stream_errors():
    with pytest.raises(ValueError, match="Invalid period"):
        kama.KamaStream(0)
    with pytest.raises(ValueError, match="Invalid fast"):
        kama.KamaStream(3, fast=0)
    with pytest.raises(ValueError, match="Invalid slow"):
        kama.KamaStream(3, slow=0)
    with pytest.raises(TypeError):
        kama.KamaStream(3, 2)  # fast is keyword-only
    with pytest.raises(TypeError):
        kama.KamaStream(period=3, bogus=1)
    with pytest.raises(ValueError):
        kama.KamaStream(3, compat="x")
    s = kama.KamaStream(3)
    with pytest.raises(TypeError):
        s.update("1.0")
    with pytest.raises(TypeError):
        s.update_many(["a"])
    assert kama.KamaStream(period=4).period == 4
    assert repr(kama.KamaStream(4, compat="talib")) == "KamaStream(period=4, fast=2, slow=30, compat='talib')"


def test_vector_ta_stream_agrees():
    vector_ta = pytest.importorskip("vector_ta")
    x = 100 + np.cumsum(np.random.default_rng(5).standard_normal(500))
    ours, theirs = kama.KamaStream(14), vector_ta.KamaStream(14)
    for v in x:
        a, b = ours.update(float(v)), theirs.update(float(v))
        assert (a is None) == (b is None)
        if a is not None:
            assert abs(a - b) <= 1e-12 * 200


def test_concurrent_updates_are_serialised():
    """update_many runs without the GIL; a per-stream lock keeps threads from tearing state."""
    x = 100 + np.cumsum(np.random.default_rng(6).standard_normal(20000))
    s = kama.KamaStream(9)
    chunks = np.array_split(x, 40)
    lock = threading.Lock()
    order = []

    def worker(i):
        with lock:  # fixes the order of chunks, but update_many itself runs GIL-free
            order.append(i)
            s.update_many(chunks[i])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ref = kama.KamaStream(9)
    ref.update_many(np.concatenate([chunks[i] for i in order]))
    assert s.value == ref.value


def test_unsynchronised_threads_do_not_corrupt():
    """Two threads hammering one stream with the same chunk: each update_many is atomic, so in
    any interleaving the end state is that of ten calls in a row."""
    s = kama.KamaStream(5)
    x = 100 + np.cumsum(np.random.default_rng(7).standard_normal(20000))

    def worker():
        for _ in range(5):
            s.update_many(x)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ref = kama.KamaStream(5)
    for _ in range(10):
        ref.update_many(x)
    assert s.value == ref.value


def _finishes(target, seconds=20):
    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive()


def test_setstate_running_python_code_does_not_deadlock():
    """Python code (here an __index__) that runs inside __setstate__ may use the stream."""
    s = kama.KamaStream(3)
    s.update_many([1.0, 2.0, 3.0, 4.0])
    state = s.__reduce__()[2]

    class Reentrant:
        def __index__(self):
            s.update(1.0)
            return 2

    assert _finishes(lambda: s.__setstate__((Reentrant(),) + state[1:]))
    assert s.fast == 2


def test_getters_wait_without_the_gil():
    """A thread reading .value while another sits in a slow __index__ inside __setstate__."""
    import time

    s = kama.KamaStream(3)
    s.update_many([1.0, 2.0, 3.0, 4.0])
    state = s.__reduce__()[2]
    stop = threading.Event()

    class Slow:
        def __index__(self):
            time.sleep(0.2)  # lets the GIL go
            return 2

    def reader():
        while not stop.is_set():
            s.value, s.ready, s.period, repr(s)

    r = threading.Thread(target=reader, daemon=True)
    r.start()
    try:
        assert _finishes(lambda: s.__setstate__((Slow(),) + state[1:]))
    finally:
        stop.set()
        r.join(5)
    assert not r.is_alive()


@pytest.mark.parametrize("policy", ["propagate", "skip"])
def test_update_many_fast_path_equals_update_bit_for_bit(compat, policy):
    """update_many runs a steady-state loop once the warm-up, the seed and the unstable outputs
    are behind it; it must give update()'s bits, in chunks that start anywhere."""
    rng = np.random.default_rng(31)
    x = 100 + np.cumsum(rng.standard_normal(20_000))
    x[[3, 400, 401, 9000]] = np.nan
    x[5000:5100] = x[4999]  # a flat run
    for period, unstable in [(1, 0), (2, 3), (30, 0), (257, 40)]:
        one = kama.KamaStream(period, compat=compat, nan_policy=policy, unstable_period=unstable)
        want = np.array([np.nan if v is None else v for v in map(one.update, x)])
        many = kama.KamaStream(period, compat=compat, nan_policy=policy, unstable_period=unstable)
        cuts = [0, 1, period, period + 1, 777, 5050, 20_000]
        got = np.concatenate([many.update_many(x[a:b]) for a, b in zip(cuts, cuts[1:])])
        np.testing.assert_array_equal(got, want)
        assert many.value == one.value or (np.isnan(many.value) and np.isnan(one.value))


def test_update_many_out():
    """out= (as kama()'s): filled and returned, the same bits; overlapping the values is fine;
    a bad out= raises before the state moves."""
    x = 100 + np.cumsum(np.random.default_rng(21).standard_normal(500))
    want = kama.KamaStream(10).update_many(x)
    out = np.full(500, 7.0)
    assert kama.KamaStream(10).update_many(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    same = x.copy()
    kama.KamaStream(10).update_many(same, out=same)
    np.testing.assert_array_equal(same, want)
    read_only = np.empty(480)
    read_only.flags.writeable = False
    for bad, error in ((np.empty(479), ValueError), (np.empty(480, np.float32), TypeError),
                       (np.empty(960)[::2], ValueError), (np.empty((1, 480)), ValueError),
                       ([0.0] * 480, TypeError), (read_only, ValueError)):
        s = kama.KamaStream(10)
        s.update_many(x[:20])
        before = s.__reduce__()
        with pytest.raises(error, match="out"):
            s.update_many(x[20:], out=bad)
        assert s.__reduce__() == before
    s = kama.KamaStream(10)
    np.testing.assert_array_equal(s.update_many(x, out=None), want)
