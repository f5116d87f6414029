"""Known issues: failures QA has already filed (or muted), per rule or test, per target.

The file is known-issues.toml at the top of the checkout (see README "Known issues"):

    tracker_url = "https://tracker.example.com/browse/%s"   # %s is the ticket id

    [[issue]]
    rule = "decision-hostile-xml"        # or: test = "suites/test_x.py::test_y"
    ticket = "CHAT-1234"                 # or: muted = true
    targets = ["staging"]                # optional; every target when absent
    comment = "the WAF answers 403 before the API sees the body"
"""

from __future__ import annotations

import argparse
import tomllib
from dataclasses import dataclass
from pathlib import Path

from transfer_conformance.errors import ConfigError, UsageError
from transfer_conformance.paths import KNOWN_ISSUES, REPORTS
from transfer_conformance.run.summary import Result


@dataclass(frozen=True)
class KnownIssue:
    rule: str
    test: str
    ticket: str
    muted: bool
    targets: tuple[str, ...]
    comment: str

    def matches(self, result: Result, target: str) -> bool:
        if self.targets and target not in self.targets:
            return False
        if self.test:
            return result.nodeid == self.test or result.nodeid.endswith("/" + self.test)
        return result.rule == self.rule


@dataclass(frozen=True)
class KnownIssues:
    tracker_url: str
    issues: tuple[KnownIssue, ...]

    def find(self, result: Result, target: str) -> KnownIssue | None:
        return next((issue for issue in self.issues if issue.matches(result, target)), None)


def load_known_issues(path: Path | None = None) -> KnownIssues:
    """The known issues: the file given (--known-issues; it must exist), else known-issues.toml
    in the working directory when there is one."""
    if path is not None and not path.is_file():
        raise UsageError(f"no known-issues file {path}")
    path = path or KNOWN_ISSUES
    if not path.exists():
        return KnownIssues("", ())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    tracker = str(data.get("tracker_url", ""))
    if tracker and tracker.count("%s") != 1:
        raise ConfigError(f"{path.name}: tracker_url must contain exactly one %s")
    issues = []
    for number, entry in enumerate(data.get("issue", []), 1):
        rule, test = str(entry.get("rule", "")), str(entry.get("test", ""))
        if bool(rule) == bool(test):
            raise ConfigError(f"{path.name}: issue {number} needs exactly one of rule or test")
        muted = bool(entry.get("muted", False))
        ticket = str(entry.get("ticket", ""))
        if not muted and not ticket:
            raise ConfigError(f"{path.name}: issue {number} needs a ticket or muted = true")
        issues.append(
            KnownIssue(
                rule,
                test,
                ticket,
                muted,
                tuple(entry.get("targets", ())),
                str(entry.get("comment", "")),
            )
        )
    return KnownIssues(tracker, tuple(issues))


def add_run_folder_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a command that reads a finished run: its folder and its known issues."""
    parser.add_argument(
        "--output", type=Path, default=REPORTS, help="the folder a run wrote (default reports/)"
    )
    parser.add_argument("--known-issues", type=Path, help="known-issues file (default known-issues.toml)")
