"""Overlapping a test's independent reads changes no verdict: a run one request at a time and a
run with many in flight judge the same rules the same way, on a target that decided otherwise
than the profile says and has two planted faults."""

import pytest

from tests.conftest import run_cli, summary_of

RULES = (
    "routing-model",
    "text-only-to-receiving-agent",
    "transfer-moves-chat",
    "unavailable-skill-rejected",
    "decision-status-unavailable-skill",
    "decision-status-chat-not-owned",
)


@pytest.mark.run
def test_concurrency_gives_the_verdicts_of_one_request_at_a_time(tmp_path):
    outcomes = {}
    for concurrency in ("1", "8"):
        output = tmp_path / concurrency
        done = run_cli(
            "run",
            "--target",
            "variants/other-statuses",
            "--ignore-decisions",
            *(argument for rule in RULES for argument in ("--rule", rule)),
            "--fault",
            "second_hop_unannounced",
            "--fault",
            "text_dropped",
            "--no-shrink",
            "--no-report",
            "--concurrency",
            concurrency,
            "--output",
            str(output),
        )
        assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
        outcomes[concurrency] = {
            r["nodeid"]: (r["rule"], r["outcome"]) for r in summary_of(output)["results"]
        }
        # requests of one run at once are never taken for another client's
        assert summary_of(output)["interference"] == []
        environment = (output / "allure-results" / "environment.properties").read_text(encoding="utf-8")
        assert f"concurrency={concurrency}\n" in environment
    assert outcomes["1"] == outcomes["8"]
    failed = {rule for rule, outcome in outcomes["8"].values() if outcome == "failed"}
    # the two faults, and the decisions this target took otherwise than the profile says
    assert failed == {
        "routing-model",
        "text-only-to-receiving-agent",
        "decision-status-unavailable-skill",
        "decision-status-chat-not-owned",
    }
