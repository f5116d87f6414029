"""`file-regression`: markdown issue bodies for the last run's failures that are not known."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from transfer_conformance.errors import ExitCode, UsageError
from transfer_conformance.run.known_issues import KnownIssues, add_run_folder_arguments, load_known_issues
from transfer_conformance.run.summary import PREVIOUS_FILE, RecordedExchange, Result, RunSummary
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


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying so when it was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… (truncated: {len(text) - limit} more characters in last-run.json)"


def judgement(message: str) -> str:
    """The violation's own lines (rule, Expected, Actual), without the requests it quotes: the
    body shows those as requests of their own."""
    kept = []
    for line in message.splitlines():
        if line.startswith(("Request (", "Response: ")):
            continue
        kept.append(line)
    return "\n".join(kept)


def _status(exchange: RecordedExchange) -> str:
    return str(exchange.status) if exchange.status is not None else "no answer"


def _request(exchange: RecordedExchange) -> list[str]:
    return [
        "```sh",
        exchange.curl,
        "```",
        "",
        f"Response `{_status(exchange)}`" + (f" ({exchange.error})" if exchange.error else "") + ":",
        "",
        "```",
        clip(exchange.response_body or "(empty)", 2000),
        "```",
    ]


def _body(result: Result, summary: RunSummary, new: bool, first_seen: float | None) -> str:
    """An issue body: the offending request first, then the rule's Expected / Actual, then the
    numbered steps of the failing example; no Python reprs, no Hypothesis notes."""
    rule = rules().get(result.rule or "")
    title = rule.title if rule else result.nodeid
    target = summary.target
    offending = (result.evidence or result.exchanges[-1:])[:1]
    lines = [f"## [{target.name}] {result.rule}: {title}" + (" (new since the previous run)" if new else "")]
    if offending:
        lines += ["", f"### The request that shows it: {offending[0].title}", "", *_request(offending[0])]
    lines += [
        "",
        "### Expected / Actual",
        "",
        "```",
        clip(judgement(result.message), 4000),
        "```",
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
    ]
    if result.exchanges:
        lines += ["", "### The failing example, step by step", ""]
        lines += [
            f"{number}. {exchange.method} {exchange.title} → {_status(exchange)}"
            for number, exchange in enumerate(result.exchanges, 1)
        ]
        lines += [
            "",
            "Every step's curl is in `last-run.json` and `traffic.har`; `transfer-conformance replay "
            f"{result.rule}` sends them again. Export LP_BEARER and the other placeholders first "
            "(see the README).",
        ]
    return "\n".join(lines)


def register(commands: argparse._SubParsersAction) -> None:
    regression = commands.add_parser("file-regression", help="markdown issue bodies for failures")
    regression.add_argument("test", nargs="?", help="a test id or rule id of the last run")
    add_run_folder_arguments(regression)
    regression.set_defaults(handler=command_file_regression)


def command_file_regression(args: argparse.Namespace) -> int:
    bodies = regression_bodies(args.output, args.test, load_known_issues(args.known_issues))
    if not bodies:
        print("no failure to file: the last run has no violation outside the known issues")
        return ExitCode.OK
    print("\n\n---\n\n".join(bodies))
    return ExitCode.OK
