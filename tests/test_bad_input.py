"""The bad-input table (SPEC §5): malformed calls across kama, kama_batch, KamaStream and
kernels, each with the exception type and a substring of its message. Every row runs on every
test run; a row that raises the wrong type, says something else, or does not raise fails."""
import numpy as np
import pytest

import kama

X = 100 + np.cumsum(np.random.default_rng(3).standard_normal(200))
SHORT = X[:10]
NAN = float("nan")


class Index:
    """An integer-like object, as numpy's integers and user classes are."""

    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


class BadIndex:
    def __index__(self):
        raise RuntimeError("boom from __index__")


class BadFloat:
    def __float__(self):
        raise RuntimeError("boom from __float__")


def stream_state(n=30, **options):
    s = kama.KamaStream(4, **options)
    s.update_many(X[:n])
    return s.__reduce__()[2]


STATE = stream_state()
FRESH = stream_state(0, unstable_period=2)  # no value seen yet

# (id, call, exception type, message substring)
CASES = []


def case(name, call, exc, text):
    CASES.append(pytest.param(call, exc, text, id=name))


# ---- shared options, for each of the three entry points ----------------------------------------
ENTRY = {
    "kama": lambda **kw: kama.kama(X, kw.pop("period", 5), **kw),
    "kama_batch": lambda **kw: kama.kama_batch(X, **({"periods": [kw.pop("period")]} if "period" in kw else {}), **kw),
    "KamaStream": lambda **kw: kama.KamaStream(kw.pop("period", 5), **kw),
}
for fn, call in ENTRY.items():
    for period, exc, text in [
        (0, ValueError, "Invalid period: period = 0"),
        (-1, ValueError, "Invalid period: period = -1"),
        (-(2**63), ValueError, "Invalid period: period = -9223372036854775808"),
        (2**64, ValueError, "period = 18446744073709551616"),
        (-(2**70), ValueError, "period = -1180591620717411303424"),
        (np.uint64(2**64 - 1), ValueError, "period = 18446744073709551615"),
        (Index(0), ValueError, "Invalid period: period = 0"),
        (False, ValueError, "Invalid period: period = 0"),
        (5.0, TypeError, "must be an integer, not float"),
        (np.float64(5), TypeError, "must be an integer"),
        ("5", TypeError, "must be an integer, not str"),
        (None if fn != "kama_batch" else "x", TypeError, "must be an integer"),
        ([5], TypeError, "must be an integer, not list"),
        (BadIndex(), RuntimeError, "boom from __index__"),
    ]:
        case(f"{fn}-period={period!r}", lambda call=call, p=period: call(period=p), exc, text)
    for name in ("fast", "slow"):
        for value, exc, text in [
            (0, ValueError, f"Invalid {name}: {name} = 0"),
            (-3, ValueError, f"Invalid {name}: {name} = -3"),
            (-(2**70), ValueError, f"{name} = -1180591620717411303424"),
            (2**64, ValueError, f"{name} = 18446744073709551616"),
            (1.5, TypeError, f"{name} must be an integer, not float"),
            ("2", TypeError, f"{name} must be an integer, not str"),
            (None, TypeError, f"{name} must be an integer"),
        ]:
            case(f"{fn}-{name}={value!r}", lambda call=call, n=name, v=value: call(**{n: v}), exc, text)
    for compat, exc, text in [
        ("TALIB", ValueError, "Invalid compat: 'TALIB'"),
        ("", ValueError, "Invalid compat"),
        ("ta-lib", ValueError, "expected 'vectorta', 'talib', 'tulipy' or 'pandas_ta'"),
        ("\ud800", ValueError, "Invalid compat"),
        (None, TypeError, "compat must be a str, not NoneType"),
        (1, TypeError, "compat must be a str, not int"),
        (b"talib", TypeError, "compat must be a str, not bytes"),
    ]:
        case(f"{fn}-compat={compat!r}", lambda call=call, c=compat: call(compat=c), exc, text)
    for value, exc, text in [(-1, ValueError, "Invalid unstable_period: unstable_period = -1"),
                             (2**64, ValueError, "unstable_period = 18446744073709551616"),
                             (1.5, TypeError, "unstable_period must be an integer, not float"),
                             ("3", TypeError, "unstable_period must be an integer, not str"),
                             (None, TypeError, "unstable_period must be an integer")]:
        case(f"{fn}-unstable_period={value!r}", lambda call=call, v=value: call(unstable_period=v), exc, text)
    case(f"{fn}-unexpected-keyword", lambda call=call: call(bogus=1), TypeError, "unexpected keyword argument 'bogus'")

# ---- kernels -------------------------------------------------------------------------------------
for name in ["sse4", "AVX2", "", "avx2\0", "\ud800", "scalar ", "avx-512", "neon_batch" * 20]:
    case(f"kernel={name!r}", lambda n=name: kama.kama(X, 5, kernel=n), ValueError, "valid kernels: 'auto'")
    case(f"batch-kernel={name!r}", lambda n=name: kama.kama_batch(X, (5, 6, 1), kernel=n), ValueError,
         "valid kernels:")
for name in [1, b"avx2", ["avx2"], 2.0]:
    case(f"kernel-type={name!r}", lambda n=name: kama.kama(X, 5, kernel=n), TypeError, "kernel must be a str or None")
case("kernels()-argument", lambda: kama.kernels(1), TypeError, "takes no arguments")
case("kernels()-keyword", lambda: kama.kernels(kernel="x"), TypeError, "takes no keyword arguments")

# ---- data ----------------------------------------------------------------------------------------
for fn, call in [("kama", lambda d: kama.kama(d, 3)), ("kama_batch", lambda d: kama.kama_batch(d, (3, 4, 1))),
                 ("update_many", lambda d: kama.KamaStream(3).update_many(d))]:
    for data, exc, text in [
        (["a", "b", "c", "d"], TypeError, "real numbers"),
        ([1 + 2j, 3j, 1j, 2j], TypeError, "real numbers"),
        (np.array(["2020-01-01"] * 5, dtype="M8[D]"), TypeError, "real numbers"),
        (np.array([1.0, object(), 2.0, 3.0], dtype=object), TypeError, "real numbers"),
        ([1.0, "x", 2.0, 3.0], TypeError, "real numbers"),
        ([BadFloat()] * 4, RuntimeError, "boom from __float__"),
        (5.0, TypeError, "1-D"),
        (None, TypeError, "1-D"),
        (np.zeros((2, 2, 2)), ValueError, "dimensions"),
        ({1: 2.0}, TypeError, "data must be a 1-D sequence of numbers, not dict"),
    ]:
        case(f"{fn}-data={type(data).__name__}:{str(data)[:12]}", lambda call=call, d=data: call(d), exc, text)
    if fn != "update_many":
        for data, exc, text in [
            # VectorTA's kama_batch says "All values are NaN" for empty input (SPEC §5)
            ([], ValueError, "Input data slice is empty" if fn == "kama" else "All values are NaN"),
            ([NAN] * 8, ValueError, "All values are NaN"),
            (np.full(8, NAN), ValueError, "All values are NaN"),
            ([1.0, 2.0], ValueError, "Invalid period: period = 3, data length = 2"),
            ([NAN, 1.0, 2.0, 3.0], ValueError, "Not enough valid data: needed = 4, valid = 3"),
        ]:
            case(f"{fn}-data={str(data)[:20]}", lambda call=call, d=data: call(d), exc, text)
    if fn == "update_many":  # kama and kama_batch take 2-D data (SPEC §3); a stream is one series
        case(f"{fn}-2-D data", lambda call=call: call(np.ones((3, 20))), ValueError, "must be 1-D")

# ---- kama(): out=, axis=, threads=, 2-D ------------------------------------------------------------
for out, exc, text in [
    (np.empty(200, dtype=np.float32), TypeError, "out must have dtype float64"),
    (np.empty(200, dtype=">f8"), TypeError, "native byte order"),
    (np.empty(200, dtype=np.int64), TypeError, "float64"),
    ([0.0] * 200, TypeError, "out must be a numpy.ndarray, not list"),
    (np.empty(199), ValueError, "out must have the data's shape (200,)"),
    (np.empty((1, 200)), ValueError, "out must have the data's shape"),
    (np.empty(0), ValueError, "out must have the data's shape"),
    (np.broadcast_to(np.empty(1), (200,)), ValueError, "read-only"),
]:
    case(f"kama-out={out.dtype if hasattr(out, 'dtype') else type(out).__name__}{getattr(out, 'shape', '')}",
         lambda o=out: kama.kama(X, 5, out=o), exc, text)
case("kama-out-2d-shape", lambda: kama.kama(np.ones((3, 50)), 5, out=np.empty((50, 3))), ValueError,
     "out must have the data's shape (3, 50)")
for axis, exc, text in [(1, ValueError, "axis 1 is out of bounds"), (-2, ValueError, "axis -2 is out of bounds"),
                        (2**64, ValueError, "out of bounds"), (1.0, TypeError, "axis must be an integer"),
                        ("0", TypeError, "axis must be an integer")]:
    case(f"kama-axis={axis!r}", lambda a=axis: kama.kama(X, 5, axis=a), exc, text)
case("kama-2d-axis=2", lambda: kama.kama(np.ones((3, 50)), 5, axis=2), ValueError, "axis 2 is out of bounds")
case("kama-2d-series-all-nan", lambda: kama.kama(np.vstack([X, np.full(200, NAN)]), 5), ValueError,
     "kama (series 1): All values are NaN")
case("kama-2d-series-too-short", lambda: kama.kama(np.ones((4, 3)), 5), ValueError, "kama (series 0): Invalid period")
case("kama-2d-zero-length-series", lambda: kama.kama(np.ones((4, 0)), 5), ValueError, "Input data slice is empty")
for fn, call in [("kama", lambda t: kama.kama(X, 5, threads=t)), ("kama_batch", lambda t: kama.kama_batch(X, (3, 5, 1), threads=t))]:
    for threads, exc, text in [(0, ValueError, "threads must be None or >= 1, got 0"),
                               (-1, ValueError, "got -1"), (-(2**70), ValueError, "got -1180591620717411303424"),
                               (1.5, TypeError, "threads must be an integer"), ("2", TypeError, "threads must be an integer")]:
        case(f"{fn}-threads={threads!r}", lambda call=call, t=threads: call(t), exc, text)
case("kama-no-data", lambda: kama.kama(), TypeError, "missing required argument 'data'")
case("kama-four-positional", lambda: kama.kama(X, 5, None, 2), TypeError, "at most 3 positional arguments")
case("kama-period-twice", lambda: kama.kama(X, 5, period=6), TypeError, "multiple values for argument 'period'")
case("kama-fast-positional-keyword-only", lambda: kama.kama(X, 5, None, 2, 30), TypeError, "at most 3 positional")

# ---- kama_batch(): ranges and periods ----------------------------------------------------------------
for rng, exc, text in [
    ((1, 2), ValueError, "Invalid range: period_range must have 3 items (start, end, step), got 2"),
    ((1, 2, 3, 4), ValueError, "got 4"),
    ((), ValueError, "got 0"),
    ((5,), ValueError, "got 1"),
    ((3, 8, -1), ValueError, "Invalid range: step must be >= 0"),
    ((3, 8, -(2**70)), ValueError, "does not fit in 64 bits"),
    ((3, 2**64, 1), ValueError, "period_range end = 18446744073709551616 does not fit in 64 bits"),
    ((-(2**100), 8, 1), ValueError, "period_range start = -1267650600228229401496703205376"),
    ((3, 8, 2**64), ValueError, "period_range step = 18446744073709551616"),
    ((0, 3, 1), ValueError, "Invalid period: period = 0"),
    ((-5, 2**61, 1), ValueError, "Invalid period: period = -5"),
    ((1, 2**62, 1), ValueError, "Not enough valid data: needed = 201, valid = 200"),
    ((300, 400, 10), ValueError, "Invalid period: period = 300, data length = 200"),
    ((5, -1, 2), ValueError, "Invalid period: period = -1"),
    ((190, 250, 5), ValueError, "Not enough valid data: needed = 201"),
    ((3.0, 8, 1), TypeError, "period_range start must be an integer, not float"),
    ((3, "8", 1), TypeError, "period_range end must be an integer, not str"),
    ((3, 8, None), TypeError, "period_range step must be an integer"),
    ((BadIndex(), 8, 1), RuntimeError, "boom from __index__"),
    ([14, 30, 50], TypeError, "not list; to give the periods one by one, use periods=[...]"),
    ([3, 8, 1], TypeError, "use periods="),
    (b"\x01\x02\x03", TypeError, "not bytes"),
    (bytearray(b"\x01\x02\x03"), TypeError, "not bytearray"),
    ({3: "a"}, TypeError, "not dict"),
    ({3, 4, 5}, TypeError, "not set"),
    (np.array([3, 8, 1]), TypeError, "not ndarray"),
    (range(3, 9), TypeError, "not range"),
    (5, TypeError, "period_range must be a (start, end, step) tuple, not int"),
    ("3,8,1", TypeError, "not str"),
]:
    case(f"kama_batch-range={rng!r}"[:60], lambda r=rng: kama.kama_batch(X, r), exc, text)
for periods, exc, text in [
    ([], ValueError, "Invalid range: periods is empty"),
    (np.array([], dtype=np.int64), ValueError, "periods is empty"),
    ([5, 0], ValueError, "Invalid period: period = 0"),
    ([5, 2**64], ValueError, "period = 18446744073709551616 does not fit in 64 bits"),
    ([5, 500], ValueError, "Invalid period: period = 500, data length = 200"),
    ([3, "a"], TypeError, "each of periods must be an integer, not str"),
    ([3, 4.0], TypeError, "each of periods must be an integer, not float"),
    (np.array([3.0, 4.0]), TypeError, "each of periods must be an integer, not float64"),
    (np.array([[3, 4]]), TypeError, "got an array of 2 dimensions"),
    ({3: "a"}, TypeError, "periods must be a sequence or 1-D array of integers, not dict"),
    ({3, 4}, TypeError, "not set"),
    (frozenset({3}), TypeError, "not frozenset"),
    (b"\x03\x04", TypeError, "not bytes"),
    (bytearray(b"\x03"), TypeError, "not bytearray"),
    ("34", TypeError, "not str"),
    (5, TypeError, "not int"),
    (iter([3, 4]), TypeError, "not list_iterator"),
    ((p for p in [3, 4]), TypeError, "not generator"),
    ([3, BadIndex()], RuntimeError, "boom from __index__"),
]:
    case(f"kama_batch-periods={type(periods).__name__}:{str(periods)[:20]}",
         lambda p=periods: kama.kama_batch(X, periods=p), exc, text)
case("kama_batch-range-and-periods", lambda: kama.kama_batch(X, (3, 5, 1), periods=[3]), TypeError, "not both")
case("kama_batch-no-data", lambda: kama.kama_batch(), TypeError, "missing required argument 'data'")
case("kama_batch-out-keyword", lambda: kama.kama_batch(X, out=np.empty(200)), TypeError, "unexpected keyword argument 'out'")

# ---- KamaStream ---------------------------------------------------------------------------------------
for value, exc, text in [("1.5", TypeError, "must be real number, not str"), (None, TypeError, "not NoneType"),
                         ([1.0], TypeError, "not list"), (1 + 1j, TypeError, "not complex"),
                         (BadFloat(), RuntimeError, "boom from __float__"), (b"1", TypeError, "not bytes")]:
    for method in ("update", "peek"):
        case(f"stream.{method}({value!r})", lambda m=method, v=value: getattr(kama.KamaStream(3), m)(v), exc, text)
case("stream.update-two-args", lambda: kama.KamaStream(3).update(1.0, 2.0), TypeError, "takes exactly one argument")
case("stream.update-no-arg", lambda: kama.KamaStream(3).update(), TypeError, "takes exactly one argument")
case("stream.update_many-no-arg", lambda: kama.KamaStream(3).update_many(), TypeError, "missing required argument 'values'")  # update_many(values, /, *, out=None)
case("stream-two-positional", lambda: kama.KamaStream(3, 2), TypeError, "at most 1 positional argument (2 given)")
case("stream-too-many-keywords", lambda: kama.KamaStream(period=3, fast=2, slow=3, compat="talib", unstable_period=1,
                                                         nan_policy="skip", x=1), TypeError,
     "too many keyword arguments")
case("stream.reset-arg", lambda: kama.KamaStream(3).reset(1), TypeError, "takes no arguments")
case("stream.period-set", lambda: setattr(kama.KamaStream(3), "period", 5), AttributeError, "")
case("stream-state-too-large", lambda: kama.KamaStream(2**59), MemoryError, "Unable to allocate 8.00 EiB for the state of period")
SETSTATE = [
    (None, "not a 14-tuple"), ((), "not a 14-tuple"), (STATE[:-2], "not a 14-tuple"), (list(STATE), "not a 14-tuple"),
    (STATE[:13] + ("omit",), "Invalid nan_policy"), (STATE[:13] + (None,), "nan_policy must be a str"),
    ((0,) + STATE[1:], "Invalid fast"), ((1.5,) + STATE[1:], "fast must be an integer"),
    (STATE[:1] + (2**64,) + STATE[2:], "Invalid slow"), (STATE[:2] + ("x",) + STATE[3:], "Invalid compat"),
    (STATE[:2] + (None,) + STATE[3:], "compat must be a str"), (STATE[:3] + (-1,) + STATE[4:], "a counter out of range"),
    (STATE[:3] + (6,) + STATE[4:], "a counter out of range"), (STATE[:3] + (2**70,) + STATE[4:], "a counter out of range"),
    (STATE[:4] + (4,) + STATE[5:], "a counter out of range"), (STATE[:5] + (4,) + STATE[6:], "a counter out of range"),
    (STATE[:5] + ("0",) + STATE[6:], "a counter must be an integer"), (STATE[:6] + (0,) + STATE[7:], "Invalid period"),
    (STATE[:6] + (2**64,) + STATE[7:], "period = 18446744073709551616"),
    (STATE[:6] + (5,) + STATE[7:], "bytes of 16 * period"), (STATE[:7] + (1,) + STATE[8:], "must be floats"),
    (STATE[:9] + ("y",) + STATE[10:], "must be floats"), (STATE[:10] + (b"",), "bytes of 16 * period"),
    (STATE[:10] + (bytearray(64),), "bytes of 16 * period"),
    (STATE[:11] + (-1,) + STATE[12:], "Invalid unstable_period"), (STATE[:12] + (6,), "a counter out of range"),
    (STATE[:12] + (-1,), "a counter out of range"), (STATE[:12] + ("0",), "a counter must be an integer"),
    (STATE[:12] + (0,), "the output count contradicts the values seen"),  # outputs given, none counted
    (FRESH[:12] + (3,), "the output count contradicts the values seen"),  # counted, none given
]
for k, (state, text) in enumerate(SETSTATE):
    case(f"stream.__setstate__-{k}-{text[:20]}", lambda s=state: kama.KamaStream(4).__setstate__(s), ValueError,
         ("KamaStream.__setstate__: malformed state (", text))


def test_table_is_large():
    assert len(CASES) >= 150, len(CASES)


@pytest.mark.parametrize("call, exc, text", CASES)
def test_bad_input(call, exc, text):
    before = kama._kama._live_buffers()  # raw: a collection mid-call can only lower it
    with pytest.raises(Exception) as info:
        call()
    assert info.type is exc, f"raised {info.type.__name__}: {info.value}, expected {exc.__name__}"
    for part in (text,) if isinstance(text, str) else text:
        assert part in str(info.value), f"message {str(info.value)!r} lacks {part!r}"
    assert kama._kama._live_buffers() <= before, "a refused call left a result buffer behind"
