"""The suite proves itself: the reference passes, and every catalogued fault is caught by its
own rule when the suite is pointed (--target-url) at a reference serving that fault.

Small example budget so the whole matrix stays fast; `transfer-conformance bench` runs the
full suite per fault and lists the other rules each fault trips.
"""

import pytest
import requests

from reference_target.embedded import EmbeddedReference
from reference_target.faults import FAULTS
from tests.conftest import failed_rules, run_cli, summary_of

pytestmark = pytest.mark.run

BUDGET = ["--examples", "4", "--no-shrink", "--no-report", "--strict"]


def test_reference_passes_the_whole_suite_strictly_and_nothing_is_left_behind(tmp_path):
    with EmbeddedReference() as served:
        done = run_cli("run", "--target-url", served.url, *BUDGET, "--output", str(tmp_path))
        # reference-only state summary: every chat the run opened has ended
        state = requests.get(f"{served.url}/_reference/state", timeout=5).json()
    assert done.returncode == 0, done.stdout[-3000:]
    results = summary_of(tmp_path)["results"]
    assert results and all(r["outcome"] == "passed" for r in results if r["outcome"] != "skipped")
    assert (state["open_chats"], state["ringing_chats"], state["sessions"]) == (0, 0, 0)
    assert (tmp_path / "junit.xml").exists()


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_fault_is_caught_by_its_own_rule(tmp_path, fault):
    with EmbeddedReference((fault.name,)) as served:
        done = run_cli(
            "run", "--target-url", served.url, "--rule", fault.rule, *BUDGET, "--output", str(tmp_path)
        )
    assert done.returncode == 1, f"{fault.name} not caught: {done.stdout[-2000:]}"
    assert fault.rule in failed_rules(tmp_path)
