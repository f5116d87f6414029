"""Helpers of the project's own tests: run the CLI as a user does, in a folder of its own."""

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from transfer_conformance.cli import main
from transfer_contract.catalogue import rules
from transfer_contract.paths import CHECKOUT as ROOT

# A run that fails one rule with a catalogued fault (shared by the report and known-issue tests).
FAILING_RUN = (
    "run",
    "--fault",
    "skill_wins_over_agent",
    "--rule",
    "agent-takes-precedence",
    "--examples",
    "3",
)


# Every rule a suite module judges but the Schemathesis contract: the self-test's runs that
# prove something else skip its cases (half a run's time); `bench` runs them in full.
BEHAVIOUR_RULES = tuple(
    argument
    for rule in rules().values()
    if rule.check == "suite" and rule.id != "openapi-contract"
    for argument in ("--rule", rule.id)
)
# The rules a [decisions] table changes: the decisions, and the MUST rules whose generators
# widen to what a profile declares (a longer text, more characters, ids as strings).
WIDENED_MUST = (
    "transfer-success-status",
    "agent-takes-precedence",
    "text-optional",
    "text-only-to-receiving-agent",
)
DECISION_RULES = tuple(
    argument
    for rule in rules().values()
    if rule.check == "suite" and (rule.kind == "decision" or rule.id in WIDENED_MUST)
    for argument in ("--rule", rule.id)
)


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "transfer_conformance.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def run_main(*args: str) -> subprocess.CompletedProcess:
    """The CLI in this process, for commands that start no run (usage errors, help, lists):
    the same `main`, without a new interpreter's start-up each time."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def summary_of(output: Path) -> dict:
    return json.loads((output / "last-run.json").read_text(encoding="utf-8"))


def failed_rules(output: Path) -> set[str]:
    return {r["rule"] for r in summary_of(output)["results"] if r["outcome"] == "failed"}


@pytest.fixture
def cli():
    return run_cli
