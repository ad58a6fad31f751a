"""Regression tests for the hardening audit (issue 8): no abort at interpreter exit, a stream
whose options and state never disagree, and the silent misreadings it found."""
import copy
import pickle
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import kama

# ---- no abort at exit -------------------------------------------------------------------------
# CPython < 3.14 ends a daemon thread that asks for the GIL during finalization with
# pthread_exit. Each script keeps a daemon thread inside a GIL-released kama call and lets the
# main thread return once the loop runs.

EXIT_CALLS = {
    "kama": "kama.kama(x, 30, threads=1)",
    "kama_threads": "kama.kama(x, 30, threads=2)",
    "kama_2d": "kama.kama(x.reshape(4, -1), 30)",
    "kama_batch": "kama.kama_batch(x, (10, 12, 1), threads=1)",
    "update_many": "s.update_many(x)",
    # update() keeps the GIL, but waits for the lock without it while update_many holds it.
    "update_contended": "s.update(1.0)",
    "peek_contended": "s.peek(1.0)",
    "value_contended": "s.value",
    "pickle_contended": "pickle.dumps(s)",
}

EXIT_SCRIPT = """
import pickle, sys, threading, time
import numpy as np, kama
x = np.random.default_rng(0).standard_normal(2_000_000).cumsum()
s = kama.KamaStream(30)
started = threading.Event()
def loop(call):
    while True:
        eval(call)
        started.set()
def start(call):
    threading.Thread(target=loop, args=(call,), daemon=True).start()
if sys.argv[1].endswith("_contended"):
    start("s.update_many(x)")
start(sys.argv[2])
started.wait(30)
time.sleep(0.2)
"""


@pytest.mark.parametrize("name", sorted(EXIT_CALLS))
def test_no_abort_at_exit_with_a_daemon_thread_inside_a_call(name, tmp_path):
    for attempt in range(3):
        res = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, name, EXIT_CALLS[name]],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0 and "terminate" not in res.stderr, (
            f"attempt {attempt}: exit status {res.returncode}\n{res.stderr}")


# ---- the stream's options and state are one unit ---------------------------------------------

PRICES = 100 + np.cumsum(np.random.default_rng(8).standard_normal(2000))
TAIL = PRICES[1500:]


def _states():
    """Streams that differ in every option, each with the continuation it must compute."""
    out = []
    for period, fast, slow, compat in [(3, 2, 30, "vectorta"), (500, 5, 10, "talib"), (40, 2, 9, "vectorta")]:
        s = kama.KamaStream(period, fast=fast, slow=slow, compat=compat)
        s.update_many(PRICES[:1500])
        options = (period, fast, slow, compat)
        out.append((s.__reduce__()[2], options, s.copy().update_many(TAIL)))
    return out


def _check_consistent(stream, known):
    """stream's options are those of one known state, and it computes that state's continuation."""
    options = (stream.period, stream.fast, stream.slow, stream.compat)
    matches = [k for k in known if k[1] == options]
    assert matches, f"options {options} belong to no state that was set"
    np.testing.assert_array_equal(stream.update_many(TAIL), matches[0][2])


def test_racing_copy_setstate_and_pickle_stay_consistent():
    """Several threads set states while others copy and pickle, for a bounded time; every object
    made stays consistent (options match the state it computes with) and every pickle returns."""
    known = _states()
    target = kama.KamaStream(3)
    target.__setstate__(known[0][0])
    made, errors = [], []
    stop = threading.Event()

    def setter(offset):
        i = offset
        while not stop.is_set():
            target.__setstate__(known[i % len(known)][0])
            i += 1

    def reader(kind):
        try:
            while not stop.is_set():
                if kind == "copy":
                    made.append(target.copy())
                elif kind == "deepcopy":
                    made.append(copy.deepcopy(target))
                else:
                    made.append(pickle.loads(pickle.dumps(target)))
                if len(made) > 3000:
                    return
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=setter, args=(k,), daemon=True) for k in range(2)]
    threads += [threading.Thread(target=reader, args=(k,), daemon=True) for k in ("copy", "deepcopy", "pickle")]
    for t in threads:
        t.start()
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a copy, pickle or __setstate__ did not return"
    assert not errors, errors
    assert len(made) > 10
    for stream in made[:: max(1, len(made) // 200)]:
        _check_consistent(stream, known)
    _check_consistent(target, known)


def test_reduce_reads_options_and_state_together():
    """The pickled options describe the pickled buffers even while __setstate__ flips them."""
    known = _states()
    target = kama.KamaStream(3)
    stop = threading.Event()

    def flip():
        i = 0
        while not stop.is_set():
            target.__setstate__(known[i % 2][0])
            i += 1

    t = threading.Thread(target=flip, daemon=True)
    t.start()
    try:
        for _ in range(3000):
            _, args, state = target.__reduce__()
            assert args[0] == state[6] and len(state[-1]) == 16 * args[0]
            assert (state[6], state[0], state[1], state[2]) in [k[1] for k in known[:2]] + [(3, 2, 30, "vectorta")]
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()


def test_update_and_update_many_from_two_threads_serialise():
    """update() keeps the GIL and update_many() releases it; each is atomic on the stream."""
    x = PRICES
    s = kama.KamaStream(7)
    log = []
    lock = threading.Lock()

    def many():
        for k in range(20):
            with lock:
                log.append(("many", k))
                s.update_many(x[k * 50:(k + 1) * 50])

    def single():
        for k in range(1000, 1400):
            with lock:
                log.append(("one", k))
                s.update(x[k])

    threads = [threading.Thread(target=many), threading.Thread(target=single)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ref = kama.KamaStream(7)
    for kind, k in log:
        if kind == "many":
            ref.update_many(x[k * 50:(k + 1) * 50])
        else:
            ref.update(x[k])
    assert s.value == ref.value


def test_setstate_faults_are_one_exception_type():
    good = kama.KamaStream(4)
    good.update_many(PRICES[:30])
    state = good.__reduce__()[2]
    faults = [
        None, 5, "state", (), state[:-1], state + (0,), list(state),
        (1.5,) + state[1:], ("2",) + state[1:], (0,) + state[1:], (-(2**70),) + state[1:],
        state[:1] + (0,) + state[2:], state[:2] + (3,) + state[3:], state[:2] + ("numpy",) + state[3:],
        state[:3] + (-1,) + state[4:], state[:3] + (6,) + state[4:], state[:3] + (2**64,) + state[4:],
        state[:4] + (4,) + state[5:], state[:5] + (4,) + state[6:], state[:5] + (1.0,) + state[6:],
        state[:6] + (5,) + state[7:], state[:6] + (0,) + state[7:], state[:6] + (2**64,) + state[7:],
        state[:7] + ("x",) + state[8:], state[:8] + (None,) + state[9:], state[:9] + (1,) + state[10:],
        state[:10] + (b"\0" * 63,), state[:10] + (bytearray(64),), state[:10] + ("x" * 64,),
    ]
    for bad in faults:
        s = kama.KamaStream(4)
        before = pickle.dumps(s)
        with pytest.raises(ValueError, match="malformed state"):
            s.__setstate__(bad)
        assert pickle.dumps(s) == before, f"a refused state changed the stream: {bad!r}"


def test_messages_quote_what_the_caller_gave():
    x = PRICES[:100]
    cases = [
        (lambda: kama.kama(x, 2**64), "period = 18446744073709551616"),
        (lambda: kama.kama(x, 2**64, compat="talib"), "period = 18446744073709551616"),
        (lambda: kama.kama(x, np.uint64(2**64 - 1)), "period = 18446744073709551615"),
        (lambda: kama.kama(x, -(2**70)), "period = -1180591620717411303424"),
        (lambda: kama.kama(x, 5, fast=-(2**70)), "fast = -1180591620717411303424"),
        (lambda: kama.kama(x, 5, slow=2**64), "slow = 18446744073709551616"),
        (lambda: kama.KamaStream(2**64), "period = 18446744073709551616"),
        (lambda: kama.kama_batch(x, periods=[5, 2**64]), "period = 18446744073709551616"),
        (lambda: kama.kama(x, 5, threads=-(2**70)), "got -1180591620717411303424"),
    ]
    for call, text in cases:
        with pytest.raises(ValueError, match=text):
            call()


def test_memory_errors_say_what_was_asked_for():
    with pytest.raises(MemoryError, match=r"KamaStream: Unable to allocate 512\. TiB for the state of period 35184372088832"):
        kama.KamaStream(2**45)
    with pytest.raises(MemoryError, match=r"kama_batch: Unable to allocate 800\. TiB for an array with shape "
                                          r"\(1099511627776, 100\) and data type float64"):
        kama.kama_batch(PRICES[:100], (1, 2**40, 1), compat="talib")
    with pytest.raises(MemoryError, match=r"Unable to allocate 1600 EiB"):
        kama.kama_batch(PRICES[:100], (1, 2**61, 1), compat="talib")


@pytest.mark.parametrize("name", ["\ud800", "avx2\0", "", "AVX2", "sse4", "x" * 1000, "scalar "])
def test_any_bad_kernel_name_is_a_value_error_listing_the_names(name):
    with pytest.raises(ValueError, match="valid kernels: 'auto', 'scalar'"):
        kama.kama(PRICES, 5, kernel=name)


@pytest.mark.parametrize("bad", [[14, 30, 50], b"\x01\x02\x03", bytearray(b"\x01\x02\x03"), {3: "a"}, {3, 4},
                                 frozenset({3}), np.array([3, 5, 1]), range(3, 6), "abc"])
def test_a_period_range_that_is_not_a_tuple_points_to_periods(bad):
    with pytest.raises(TypeError, match=r"use periods=\[\.\.\.\]"):
        kama.kama_batch(PRICES, bad)


@pytest.mark.parametrize("bad", [{3: "a"}, {3, 4}, frozenset({3}), b"\x03", bytearray(b"\x03"), "34", iter([3, 4])])
def test_periods_takes_a_sequence_not_a_set_or_dict(bad):
    with pytest.raises(TypeError, match="periods must be a sequence or 1-D array of integers"):
        kama.kama_batch(PRICES, periods=bad)


def test_periods_takes_sequences_and_arrays_in_order():
    for seq in ([14, 30, 50], (14, 30, 50), np.array([14, 30, 50]), range(14, 51, 18)):
        res = kama.kama_batch(PRICES, periods=seq)
        assert res["periods"].tolist() == list(np.asarray(seq if not isinstance(seq, range) else list(seq)))
        np.testing.assert_array_equal(res["values"][1], kama.kama(PRICES, int(res["periods"][1])))
