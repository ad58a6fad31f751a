"""The fuzz harness (tests/fuzz/fuzz_api.py) driven by hypothesis, so that it runs on every test
run and cannot rot; `.ci/run` also runs it under atheris for a minute."""
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "fuzz"))
from fuzz_api import one_input  # noqa: E402


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=160))
def test_fuzz_harness_inputs(data):
    one_input(data)
