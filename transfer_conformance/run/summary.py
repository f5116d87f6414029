"""The run summary (last-run.json): what the plugin writes and every reader uses, typed.

The CLI's table and exit code, the report, file-regression, known issues and the bench all
read a run through `RunSummary.load`; the plugin writes it through `RunSummary.save`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, fields
from enum import IntEnum
from pathlib import Path
from typing import Any

from transfer_conformance.http.masking import REGISTRY

RUN_PROFILES = ("dev", "ci", "nightly")
# A run folder (`run --output`) holds its summary, and the one of the run before, by these names.
SUMMARY_FILE = "last-run.json"
PREVIOUS_FILE = "previous-run.json"


class NoRunError(ValueError):
    """A folder that holds no run: no readable summary."""


OUTCOMES = ("passed", "failed", "broken", "skipped")


class ExitCode(IntEnum):
    """The exit codes of `transfer-conformance run` (and of its other commands)."""

    OK = 0
    VIOLATION = 1
    USAGE = 2
    BROKEN = 3


@dataclass
class Result:
    """One test's verdict: failed is a rule violation, broken an environment problem."""

    nodeid: str
    outcome: str
    rule: str | None = None
    level: str | None = None
    kind: str | None = None
    check: str | None = None
    message: str = ""
    example: str = ""
    duration_s: float = 0.0
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    finished: float = 0.0

    def named_by(self, wanted: str) -> bool:
        """Whether ``wanted``, as a user types it (a test id, its end, or a rule id), names this."""
        return wanted in (self.nodeid, self.rule) or self.nodeid.endswith(wanted)


@dataclass
class TargetInfo:
    name: str = ""
    url: str = ""
    profile_file: str = ""


@dataclass
class RunSummary:
    suite_version: str = ""
    target: TargetInfo = field(default_factory=TargetInfo)
    run_profile: str = "ci"
    seed: str = ""
    strict: bool = False
    faults: list[str] = field(default_factory=list)
    declared_decisions: list[str] = field(default_factory=list)
    xml_transfer_form: str = ""
    started: float = 0.0
    finished: float = 0.0
    setup_error: str = ""
    results: list[Result] = field(default_factory=list)
    # every request the run sent (set-up, tests, clean-up) and the seconds spent waiting on them
    requests_sent: int = 0
    request_seconds: float = 0.0
    # nodeid -> when a failing test first failed, carried over from run to run
    first_seen: dict[str, float] = field(default_factory=dict)

    def failed(self) -> list[Result]:
        return [result for result in self.results if result.outcome == "failed"]

    def rules_with(self, outcome: str) -> list[str]:
        return sorted({r.rule for r in self.results if r.outcome == outcome and r.rule})

    def save(self, path: Path) -> None:
        """Write the summary, every known secret masked."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(REGISTRY.mask(json.dumps(asdict(self), indent=1)), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> RunSummary | None:
        """The summary at ``path``, or None when there is none (or it cannot be read)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls.from_dict(data) if isinstance(data, dict) else None

    @classmethod
    def of_run(cls, folder: Path) -> RunSummary:
        """The summary of the run in ``folder``; NoRunError, naming the folder, when none."""
        summary = cls.load(folder / SUMMARY_FILE)
        if summary is None:
            raise NoRunError(f"{folder}: no {SUMMARY_FILE} (give a folder a run wrote with --output)")
        return summary

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        values = _known(cls, data)
        values["target"] = TargetInfo(**_known(TargetInfo, data.get("target") or {}))
        values["results"] = [Result(**_known(Result, r)) for r in data.get("results", [])]
        return cls(**values)


def _known(kind: type, data: dict[str, Any]) -> dict[str, Any]:
    """The keys of ``data`` that ``kind`` has: a summary of an older version still loads."""
    names = {f.name for f in fields(kind)}
    return {key: value for key, value in data.items() if key in names}


def run_command(target: str, output: Path, *options: str) -> list[str]:
    """The command line of a `transfer-conformance run` in a process of its own, writing its
    summary (and traffic) under ``output``."""
    return [
        sys.executable,
        "-m",
        "transfer_conformance.cli",
        "run",
        "--target",
        target,
        "--output",
        str(output),
        *options,
    ]
