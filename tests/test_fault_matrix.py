"""The suite proves itself: every catalogued fault is caught by its own rule when the suite is
pointed (--target-url) at a reference serving that fault. (That the reference passes the whole
suite strictly, leaving nothing behind, is tests/test_documented_dialect.py's ci run.)

Small example budget so the whole matrix stays fast; `transfer-conformance bench` runs the
full suite per fault and lists the other rules each fault trips.
"""

import pytest

from reference_target.embedded import EmbeddedReference
from reference_target.faults import FAULTS
from tests.conftest import failed_rules, run_cli

pytestmark = pytest.mark.run

BUDGET = ["--examples", "4", "--no-shrink", "--no-report", "--strict"]


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault_is_caught_by_its_own_rule(tmp_path, fault):
    with EmbeddedReference((fault.name,)) as served:
        done = run_cli(
            "run", "--target-url", served.url, "--rule", fault.rule, *BUDGET, "--output", str(tmp_path)
        )
    assert done.returncode == 1, f"{fault.name} not caught: {done.stdout[-2000:]}"
    assert fault.rule in failed_rules(tmp_path)
