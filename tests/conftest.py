"""Helpers of the project's own tests: run the CLI as a user does, in a folder of its own."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "transfer_conformance.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


def summary_of(output: Path) -> dict:
    return json.loads((output / "last-run.json").read_text(encoding="utf-8"))


def failed_rules(output: Path) -> set[str]:
    return {r["rule"] for r in summary_of(output)["results"] if r["outcome"] == "failed"}


@pytest.fixture
def cli():
    return run_cli
