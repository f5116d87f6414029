"""`file-regression`: markdown issue bodies for the last run's failures that are not known."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from transfer_conformance.errors import ExitCode, UsageError
from transfer_conformance.paths import REPORTS
from transfer_conformance.run.known_issues import KnownIssues, load_known_issues
from transfer_conformance.run.summary import PREVIOUS_FILE, Result, RunSummary
from transfer_contract.catalogue import rules


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "unknown"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def regression_bodies(folder: Path, wanted: str | None, known: KnownIssues) -> list[str]:
    """Markdown bodies for the failures of the run in ``folder`` (all that are not known
    issues, or the one ``wanted`` names: a test id, its end, or a rule)."""
    summary = RunSummary.of_run(folder)
    previous = RunSummary.load(folder / PREVIOUS_FILE) or RunSummary()
    if wanted and not any(result.named_by(wanted) for result in summary.failed()):
        failed = sorted({r.nodeid for r in summary.failed()})
        listing = "".join(f"\n  {nodeid}" for nodeid in failed) or " (none: the run has no failure)"
        raise UsageError(f"no failure of the run in {folder} is named {wanted!r}; its failures:{listing}")
    failed_before = {r.nodeid for r in previous.failed()}
    bodies = []
    for result in summary.failed():
        if wanted and not result.named_by(wanted):
            continue
        if not wanted and known.find(result, summary.target.name):
            continue
        bodies.append(
            _body(result, summary, result.nodeid not in failed_before, previous.first_seen.get(result.nodeid))
        )
    return bodies


def _body(result: Result, summary: RunSummary, new: bool, first_seen: float | None) -> str:
    rule = rules().get(result.rule or "")
    title = rule.title if rule else result.nodeid
    target = summary.target
    lines = [
        f"## [{target.name}] {result.rule}: {title}" + (" (new since the previous run)" if new else ""),
        "",
        f"- **Rule:** `{result.rule}` ({result.level}, {result.kind}): " + (rule.behaviour if rule else ""),
        f"- **Docs:** {rule.doc_url} ({rule.doc_section})" if rule else "- **Docs:** (no rule)",
        f"- **Target:** {target.name} ({target.url}), run profile {summary.run_profile}, seed {summary.seed}",
        f"- **Test:** `{result.nodeid}`",
        f"- **Seen:** {_when(result.finished)}"
        + (
            "; first failure of this test (it passed in the previous run)"
            if new
            else f"; also failed in the previous run (first seen {_when(first_seen)})"
        ),
        "",
        "### Expected / Actual",
        "",
        "```",
        result.message.strip()[:4000],
        "```",
    ]
    if result.example:
        lines += [
            "",
            "### Minimal failing example",
            "",
            "```",
            result.example.strip()[:2000],
            "```",
        ]
    for exchange in result.exchanges[-3:]:
        lines += [
            "",
            f"### {exchange.title}",
            "",
            "Reproduce (export LP_BEARER and the other placeholders first, see the README):",
            "",
            "```sh",
            exchange.curl,
            "```",
            "",
            f"Response `{exchange.status}`:",
            "",
            "```",
            (exchange.response_body or "(empty)")[:2000],
            "```",
        ]
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction) -> None:
    regression = commands.add_parser("file-regression", help="markdown issue bodies for failures")
    regression.add_argument("test", nargs="?", help="a test id or rule id of the last run")
    regression.add_argument(
        "--output", type=Path, default=REPORTS, help="the folder a run wrote (default reports/)"
    )
    regression.add_argument("--known-issues", type=Path, help="known-issues file (default known-issues.toml)")
    regression.set_defaults(handler=command_file_regression)


def command_file_regression(args: argparse.Namespace) -> int:
    bodies = regression_bodies(args.output, args.test, load_known_issues(args.known_issues))
    if not bodies:
        print("no failure to file: the last run has no violation outside the known issues")
        return ExitCode.OK
    print("\n\n---\n\n".join(bodies))
    return ExitCode.OK
