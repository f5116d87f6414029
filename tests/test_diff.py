"""`diff` of two runs: of a reference run against a fault run it names exactly the fault's rule
and exits 1; of two reference runs it shows no change and exits 0."""

import pytest

from tests.conftest import run_cli, run_main
from transfer_conformance.commands.diff import Change
from transfer_conformance.run.verdicts import Verdict

pytestmark = pytest.mark.xdist_group("diff-runs")
RULES = ("--rule", "agent-takes-precedence", "--rule", "transfer-success-status", "--rule", "text-optional")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diff")
    for name, extra in (("a", ()), ("b", ()), ("fault", ("--fault", "skill_wins_over_agent"))):
        run_cli("run", *RULES, *extra, "--no-report", "--output", str(folder / name))
    return folder


@pytest.mark.run
def test_two_reference_runs_show_no_change(runs):
    done = run_cli("diff", str(runs / "a"), str(runs / "b"))
    assert done.returncode == 0, done.stdout
    assert "no change" in done.stdout


@pytest.mark.run
def test_a_fault_run_names_exactly_its_rule_and_exits_1(runs, tmp_path):
    markdown = tmp_path / "diff.md"
    done = run_cli("diff", str(runs / "a"), str(runs / "fault"), "--markdown", str(markdown))
    assert done.returncode == 1, done.stdout
    changed = [line.split()[0] for line in done.stdout.splitlines()[1:] if line and not line.startswith(" ")]
    assert changed[: changed.index("markdown:") if "markdown:" in changed else None] == [
        "agent-takes-precedence"
    ]
    assert "| agent-takes-precedence | ok | violated | yes |" in markdown.read_text(encoding="utf-8")


@pytest.mark.run
def test_a_folder_without_a_run_is_a_usage_error(runs, tmp_path):
    done = run_cli("diff", str(runs / "a"), str(tmp_path))
    assert done.returncode == 2 and "no last-run.json" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.run
def test_two_targets_run_now_show_their_different_decisions(tmp_path):
    """Both conformant, each judged by its own profile: no rule got worse (exit 0), and the
    statuses they chose differently are named."""
    only = ("--rule", "decision-status-unavailable-skill", "--rule", "transfer-success-status")
    done = run_cli(
        "diff",
        "--target",
        "reference",
        "--target",
        "variants/other-statuses",
        *only,
        "--output",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "decision-status-unavailable-skill" in done.stdout
    assert "status seen only in B: POST {id}/agentSession/{id}/chat/{id}/transfer -> 422" in done.stdout


def test_an_unknown_rule_of_a_diff_is_a_usage_error():
    done = run_main("diff", "--target", "reference", "--target", "reference", "--rule", "no-such-rule")
    assert done.returncode == 2 and "unknown rule no-such-rule" in done.stderr


@pytest.mark.parametrize(
    ("before", "after", "worse"),
    [
        ("violated", "broken", True),
        ("ok", "broken", True),
        ("broken", "violated", True),
        ("violated", "ok", False),
        ("broken", "ok", False),
        ("broken", "broken", False),
    ],
)
def test_a_rule_that_loses_its_verdict_got_worse(before, after, worse):
    change = Change("r", Verdict(before), Verdict(after), [])
    assert change.worse is worse
    assert not (change.worse and change.better)
