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
from helpers import sweep_kernel

import kama

# ---- no abort at exit -------------------------------------------------------------------------
# CPython < 3.14 ends a daemon thread that asks for the GIL during finalization with
# pthread_exit. Each script keeps a daemon thread inside a GIL-released kama call and lets the
# main thread return once the loop runs.

EXIT_CALLS = {
    "kama": "kama.kama(x, 30, threads=1)",
    "kama_threads": "kama.kama(x, 30, threads=2)",
    "kama_2d": "kama.kama(x.reshape(4, -1), 30)",
    # NumPy's own cast and copy release the GIL inside kama's conversion of the data.
    "kama_float32": "kama.kama(x32, 30, threads=1)",
    "kama_axis0": "kama.kama(x.reshape(-1, 4), 30, axis=0)",
    "kama_batch": "kama.kama_batch(x, (10, 12, 1), threads=1)",
    "update_many": "s.update_many(x)",
    # update() keeps the GIL, but waits for the lock without it while another daemon thread's
    # update_many holds it: at exit both threads ask for the GIL back (these cases also fail
    # without the fix through that update_many thread alone).
    "update_contended": "s.update(1.0)",
    "peek_contended": "s.peek(1.0)",
    "value_contended": "s.value",
    "pickle_contended": "pickle.dumps(s)",
}

EXIT_SCRIPT = """
import pickle, sys, threading, time
import numpy as np, kama
x = np.random.default_rng(0).standard_normal(2_000_000).cumsum()
x32 = x.astype(np.float32)
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


@pytest.mark.slow  # a fresh interpreter per call (~1 s each)
@pytest.mark.parametrize("name", sorted(EXIT_CALLS))
def test_no_abort_at_exit_with_a_daemon_thread_inside_a_call(name, tmp_path):
    for attempt in range(3):
        res = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, name, EXIT_CALLS[name]],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0 and "terminate" not in res.stderr, (
            f"attempt {attempt}: exit status {res.returncode}\n{res.stderr}")


def test_kama_reads_the_interpreters_finalizing_flag():
    """The flag that keeps destructors from releasing references without the GIL at exit."""
    if sys.platform.startswith(("linux", "darwin")):
        assert kama._kama._interpreter_finalizing() is False


def test_no_leak_in_atexit_callbacks_or_daemon_threads_before_finalization(tmp_path):
    """atexit callbacks registered before kama's import run late; every call there frees its
    references as usual (they are only left behind once the interpreter finalizes)."""
    code = textwrap.dedent("""
        import atexit, threading, time
        import numpy as np
        def late():
            import kama
            for _ in range(100):
                kama.kama_batch(x, (2, 50, 1))
                kama.kama(x.reshape(-1, 2), 5, axis=0)
            time.sleep(0.2)
            print("live", kama._kama._live_buffers())
        atexit.register(late)
        import kama
        x = np.random.default_rng(0).standard_normal(4000).cumsum()
    """)
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "live 0", res.stdout + res.stderr


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
            assert args[0] == state[6] and len(state[10]) == 16 * args[0]
            assert (state[6], state[0], state[1], state[2]) in [k[1] for k in known[:2]] + [(3, 2, 30, "vectorta")]
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()


def test_a_snapshot_never_sees_half_an_update_many():
    """update_many() runs without the GIL; a copy, pickle or .value taken meanwhile from another
    thread (with the GIL) must wait for it, so every snapshot is the state after a whole number
    of update_many calls."""
    chunk = 100 + np.cumsum(np.random.default_rng(9).standard_normal(400_000))
    rounds = 8
    ref = kama.KamaStream(7)
    states = [pickle.dumps(ref)]
    for _ in range(rounds):
        ref.update_many(chunk)
        states.append(pickle.dumps(ref))
    s = kama.KamaStream(7)
    seen, done = [], threading.Event()

    def writer():
        for _ in range(rounds):
            s.update_many(chunk)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    while not done.is_set():
        seen.append(pickle.dumps(s.copy()))
        seen.append(pickle.dumps(s))
    t.join()
    assert len(seen) > 2
    torn = [k for k, state in enumerate(seen) if state not in states]
    assert not torn, f"{len(torn)} of {len(seen)} snapshots were taken in the middle of an update_many"


def test_setstate_faults_are_one_exception_type():
    good = kama.KamaStream(4)
    good.update_many(PRICES[:30])
    state = good.__reduce__()[2]
    faults = [
        None, 5, "state", (), state[:-2], state + (0,), list(state), state[:13] + ("omit",),
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
    # Sizes past what any address space holds, so that no allocator can grant them.
    with pytest.raises(MemoryError, match=r"KamaStream: Unable to allocate 8\.00 EiB for the state of period 576460752303423488"):
        kama.KamaStream(2**59)
    with pytest.raises(MemoryError, match=r"kama_batch: Unable to allocate 200\. EiB for an array with shape "
                                          r"\(288230376151711744, 100\) and data type float64"):
        kama.kama_batch(PRICES[:100], (1, 2**58, 1), compat="talib")
    with pytest.raises(MemoryError, match=r"Unable to allocate 1600\. EiB"):
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
        want = kama.kama(PRICES, int(res["periods"][1]), kernel=sweep_kernel(None, 3))  # 3 periods
        np.testing.assert_array_equal(res["values"][1], want)


def test_index_is_called_once_and_quoted_as_it_answered():
    class Shifty:
        calls = 0

        def __index__(self):
            Shifty.calls += 1
            return 0 if Shifty.calls == 1 else 99

    with pytest.raises(ValueError, match="Invalid period: period = 0,"):
        kama.kama(PRICES[:10], Shifty())
    assert Shifty.calls == 1


def test_periods_range_is_not_materialised():
    """periods=range(...) is a lazy range of rows, validated like period_range."""
    x = PRICES[:100]
    with pytest.raises(ValueError, match="Invalid period: period = 101, data length = 100"):
        kama.kama_batch(x, periods=range(1, 10**12, 100))
    with pytest.raises(ValueError, match="Not enough valid data: needed = 101"):
        kama.kama_batch(x, periods=range(1, 10**12))
    with pytest.raises(ValueError, match="periods is empty"):
        kama.kama_batch(x, periods=range(5, 5))
    with pytest.raises(ValueError, match="period = 18446744073709551616 does not fit in 64 bits"):
        kama.kama_batch(x, periods=range(2**64, 2**65))
    with pytest.raises(ValueError, match="Invalid period: period = 0"):
        kama.kama_batch(x, periods=range(3, -1, -1))
    with pytest.raises(ValueError, match="Invalid period: period = -9223372036854775808"):
        kama.kama_batch(x, periods=range(-(2**63), 2**63 - 1, 2**63))
    for r in (range(3, 30, 4), range(30, 2, -7), range(9, 10), range(5, 6, 2**70)):
        res = kama.kama_batch(x, periods=r)
        assert res["periods"].tolist() == list(r)
        np.testing.assert_array_equal(res["values"][-1], kama.kama(x, r[-1]))


def test_setstate_checks_sizes_before_allocating():
    """A state that claims a huge period with small buffers is refused at once, as malformed."""
    import resource

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for period in (10**8, 2**58, 2**62):  # 1.6 GB, and more than memory holds
        with pytest.raises(ValueError, match="malformed state .*bytes of 16 \\* period"):
            kama.KamaStream(3).__setstate__((2, 30, "vectorta", 0, 0, 0, period, 0.0, 0.0, 0.0, b""))
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    assert grown_mib < 256, f"max RSS grew by {grown_mib:.0f} MiB: the refused state was allocated first"


def test_periods_range_and_list_name_the_same_bad_row():
    x = PRICES[:100]
    for r in (range(2, 2**64, 2**62), range(5, -(2**64), -(2**62))):
        errors = []
        for form in (r, list(r)):
            with pytest.raises(ValueError) as info:
                kama.kama_batch(x, periods=form, compat="talib")
            errors.append(str(info.value))
        assert errors[0] == errors[1] and "does not fit in 64 bits" in errors[0]


def test_periods_from_sequences_without_or_with_a_wrong_len():
    class ItemsOnly:  # the old sequence protocol: __getitem__ until IndexError
        def __getitem__(self, i):
            if i < 3:
                return [5, 9, 14][i]
            raise IndexError

    class Overstated(list):
        def __len__(self):
            return 2**62

    assert kama.kama_batch(PRICES, periods=ItemsOnly())["periods"].tolist() == [5, 9, 14]
    assert kama.kama_batch(PRICES, periods=Overstated([3, 4, 5]))["periods"].tolist() == [3, 4, 5]


@pytest.fixture
def fast_switching():
    """Threads take turns often (more interleavings a run); the interval is restored after."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("round_", range(6))
def test_concurrent_calls_are_some_serial_order(round_, fast_switching):
    """SPEC §6: threads mixing update(), update_many() and snapshots on one stream give the
    results of some serial order of the calls. Values are numbered per writer, and the period is
    longer than everything fed concurrently, so the final ring spells out the order in which the
    calls took effect; replaying that order on a fresh stream must give every call's result,
    every snapshot (at a call boundary) and the final state, bit for bit."""
    import hashlib
    import random

    period = 1 << 15
    warm = 100 + np.cumsum(np.random.default_rng(5).standard_normal(period + 5))
    s = kama.KamaStream(period)
    s.update_many(warm)
    room = [period - 10]  # every concurrent value stays in the ring
    room_lock, stop = threading.Lock(), threading.Event()
    # All three start together: under qemu-user the writers could otherwise use up the room
    # before the reader thread had begun (the aarch64 CI run saw no snapshot at all).
    start = threading.Barrier(3, timeout=60)
    logs, snaps, errors = {}, [], []

    def take(n):
        with room_lock:
            if room[0] < n:
                return False
            room[0] -= n
            return True

    def writer(w, many):
        r, seq, log = random.Random(w * 100 + round_), 0, []
        try:
            start.wait()
            while not stop.is_set():
                if many:
                    time.sleep(0)  # let the reader in between the big calls
                n = r.choice([1, 7, 500, 3000]) if many else 1
                if not take(n):
                    break
                vals = w * 1e8 + np.arange(seq, seq + n, dtype=np.float64)
                seq += n
                log.append(("many", vals, s.update_many(vals)) if many else ("one", vals[0], s.update(vals[0])))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        logs[w] = log

    def reader():
        try:
            start.wait()
            while True:  # at least one snapshot, however the threads were scheduled
                c = s.copy() if random.random() < 0.5 else pickle.loads(pickle.dumps(s))
                state = c.__reduce__()[2]
                last = np.frombuffer(state[10], dtype=np.float64)[state[4] - 1]
                snaps.append((last, hashlib.sha1(pickle.dumps(c)).digest()))
                if stop.is_set():
                    break
                time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(1, True)), threading.Thread(target=writer, args=(2, False)),
               threading.Thread(target=reader)]
    for t in threads:
        t.start()
    threads[0].join(60)
    threads[1].join(60)
    stop.set()
    threads[2].join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    state = s.__reduce__()[2]
    ring = np.frombuffer(state[10], dtype=np.float64)[:period]
    history = np.concatenate([ring[state[4]:], ring[:state[4]]])
    total = sum(len(c[1]) if c[0] == "many" else 1 for log in logs.values() for c in log)
    assert total > 10_000
    fed = history[period - total:]
    # Where each snapshot says it was taken: after the call that fed its last value.
    taken = [(0 if last < 1e8 else int(np.flatnonzero(fed == last)[0]) + 1, digest) for last, digest in snaps]
    wanted = {k for k, _ in taken}
    replay = kama.KamaStream(period)
    replay.update_many(warm)
    at, boundary = 0, {}
    if 0 in wanted:
        boundary[0] = hashlib.sha1(pickle.dumps(replay)).digest()
    nxt = {w: 0 for w in logs}
    while at < total:  # the calls in the order the ring shows
        w = int(fed[at] // 1e8)
        kind, vals, got = logs[w][nxt[w]]
        nxt[w] += 1
        if kind == "many":
            assert np.array_equal(fed[at:at + len(vals)], vals), "an update_many was torn"
            np.testing.assert_array_equal(replay.update_many(vals), got)
            at += len(vals)
        else:
            assert fed[at] == vals and replay.update(vals) == got
            at += 1
        if at in wanted:
            boundary[at] = hashlib.sha1(pickle.dumps(replay)).digest()
    assert pickle.dumps(replay) == pickle.dumps(s)
    assert snaps
    for k, digest in taken:  # each snapshot is the replay's state after some call, not inside one
        assert boundary.get(k) == digest, f"a snapshot after value {k} is no serial state"
