"""`file-regression`: markdown issue bodies for the last run's failures that are not known."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from transfer_conformance.run.known_issues import load_known_issues
from transfer_conformance.run.summary import Result, RunSummary
from transfer_contract.catalogue import rules


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "unknown"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def regression_bodies(summary_path: Path, previous_path: Path, wanted: str | None) -> list[str]:
    summary = RunSummary.load(summary_path)
    if summary is None:
        raise FileNotFoundError("no last run: run `transfer-conformance run` first")
    previous = RunSummary.load(previous_path) or RunSummary()
    known = load_known_issues()
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
            f"### {exchange['title']}",
            "",
            "Reproduce (export LP_BEARER and the other placeholders first, see the README):",
            "",
            "```sh",
            exchange["curl"],
            "```",
            "",
            f"Response `{exchange['status']}`:",
            "",
            "```",
            (exchange["response_body"] or "(empty)")[:2000],
            "```",
        ]
    return "\n".join(lines)
