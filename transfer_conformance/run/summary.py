"""The run summary (last-run.json): what the plugin writes and every reader uses, typed.

The CLI's table and exit code, the report, file-regression, known issues and the bench all
read a run through `RunSummary.load`; the plugin writes it through `RunSummary.save`.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from transfer_conformance.errors import UsageError
from transfer_conformance.files import write_text_atomically
from transfer_conformance.http.client import Exchange
from transfer_conformance.http.masking import REGISTRY
from transfer_contract.catalogue import Rule

RUN_PROFILES = ("dev", "ci", "nightly")
# A run folder (`run --output`) holds its summary, and the one of the run before, by these names.
SUMMARY_FILE = "last-run.json"
PREVIOUS_FILE = "previous-run.json"
# ... and its JUnit file, its traffic (HAR) and its Allure results
JUNIT_FILE = "junit.xml"
HAR_FILE = "traffic.har"
RESULTS_FOLDER = "allure-results"


class NoRunError(UsageError):
    """A folder that holds no run: no readable summary."""


class Outcome(StrEnum):
    """One test's outcome: failed is a rule violation, broken anything else that went wrong."""

    PASSED = "passed"
    FAILED = "failed"
    BROKEN = "broken"
    SKIPPED = "skipped"


@dataclass
class RecordedExchange:
    """One request of a failing example and its answer, as the summary keeps it (masked)."""

    title: str = ""
    method: str = ""
    url: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_ms: float = 0.0
    error: str = ""
    curl: str = ""

    @classmethod
    def of(cls, exchange: Exchange) -> RecordedExchange:
        return cls(
            exchange.title,
            exchange.method,
            exchange.url,
            dict(exchange.request_headers),
            exchange.request_body,
            exchange.status,
            dict(exchange.response_headers),
            exchange.response_body,
            round(exchange.elapsed_ms, 1),
            exchange.error,
            exchange.curl,
        )


@dataclass
class Result:
    """One test's verdict: failed is a rule violation, broken an environment problem."""

    nodeid: str
    outcome: Outcome
    rule: str | None = None
    level: str | None = None
    kind: str | None = None
    check: str | None = None
    message: str = ""
    example: str = ""
    duration_s: float = 0.0
    exchanges: list[RecordedExchange] = field(default_factory=list)
    finished: float = 0.0
    # the requests the violation names, the offending one first (a failed result's)
    evidence: list[RecordedExchange] = field(default_factory=list)
    # the lane that ran it (`run --lanes`): 0 is the profile's own agents, n its n-th [[lanes]]
    lane: int = 0

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.outcome)

    @classmethod
    def of_rule(cls, nodeid: str, outcome: Outcome, rule: Rule | None, **fields: Any) -> Result:
        """A test's Result, labelled with its rule's id, level, kind and check, finished now."""
        labels = (
            {"rule": rule.id, "level": rule.level, "kind": rule.kind, "check": rule.check} if rule else {}
        )
        return cls(nodeid, outcome, **labels, **fields, finished=time.time())

    def named_by(self, wanted: str) -> bool:
        """Whether ``wanted``, as a user types it (a test id, its end, or a rule id), names this."""
        return wanted in (self.nodeid, self.rule) or self.nodeid.endswith(wanted)


@dataclass
class TargetInfo:
    name: str = ""
    url: str = ""
    profile_file: str = ""
    # the --target-url the run was given (empty: the profile's own URLs, or the embedded one)
    url_override: str = ""


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
    # why the run stopped before every test ran (its deadline, an interrupt, an outage)
    stopped: str = ""
    results: list[Result] = field(default_factory=list)
    # every request the run sent (set-up, tests, clean-up) and the seconds spent waiting on them,
    # summed over requests (those in flight at once each count: the sum can exceed the run's time)
    requests_sent: int = 0
    request_seconds: float = 0.0
    # nodeid -> when a failing test first failed, carried over from run to run
    first_seen: dict[str, float] = field(default_factory=dict)
    # signs that another client used the same agents during the run (chat ids, states)
    interference: list[str] = field(default_factory=list)
    # what the run could not write (a full disk): the run is broken, whatever it judged
    write_error: str = ""

    def failed(self) -> list[Result]:
        return [result for result in self.results if result.outcome is Outcome.FAILED]

    def rules_with(self, outcome: Outcome) -> list[str]:
        return sorted({r.rule for r in self.results if r.outcome == outcome and r.rule})

    def save(self, path: Path) -> None:
        """Write the summary, every known secret masked."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, REGISTRY.mask(json.dumps(asdict(self), indent=1)))

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
        values["results"] = [_result(r) for r in data.get("results", [])]
        return cls(**values)


def _result(data: dict[str, Any]) -> Result:
    values = _known(Result, data)
    for key in ("exchanges", "evidence"):
        values[key] = [RecordedExchange(**_known(RecordedExchange, e)) for e in data.get(key, [])]
    return Result(**values)


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
