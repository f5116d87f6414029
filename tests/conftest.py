"""Helpers of the project's own tests: run the CLI as a user does, in a folder of its own."""

import contextlib
import functools
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

from transfer_conformance.cli import main
from transfer_contract.catalogue import rules
from transfer_contract.paths import CHECKOUT as ROOT

GROUP_MARK = re.compile(r"xdist_group\(\"([^\"]+)\"\)")


@functools.cache
def group_of(path: str) -> str:
    """The xdist_group a test module declares in its pytestmark ('' for none)."""
    found = GROUP_MARK.search((ROOT / path).read_text(encoding="utf-8")) if path.endswith(".py") else None
    return found.group(1) if found else ""


class GroupedScheduling(LoadScopeScheduling):
    """`--dist load`, except that a module marked with xdist_group goes to one worker with its
    tests in a row, so that its module fixture (one whole run that many tests read) runs once.
    xdist's own loadgroup renames the items to do this, which pytest 9 no longer reads: it sent
    a group's tests to both workers, and each ran the shared run again."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid.split("::", 1)[0]) or nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> GroupedScheduling:
    return GroupedScheduling(config, log)


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
