"""`file-regression`: markdown issue bodies for the last run's failures that are not known."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from transfer_conformance.known_issues import load_known_issues
from transfer_contract.catalogue import rules


def read_summary(path: Path) -> dict[str, Any]:
    """A run summary (last-run.json), or {} when there is none."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "unknown"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def regression_bodies(summary_path: Path, previous_path: Path, wanted: str | None) -> list[str]:
    summary, previous = read_summary(summary_path), read_summary(previous_path)
    if not summary:
        raise FileNotFoundError("no last run: run `transfer-conformance run` first")
    known = load_known_issues()
    target = summary["target"]
    failed_before = {r["nodeid"] for r in previous.get("results", []) if r["outcome"] == "failed"}
    first_seen = previous.get("first_seen", {})
    bodies = []
    for result in summary["results"]:
        if result["outcome"] != "failed":
            continue
        if (
            wanted
            and wanted not in (result["nodeid"], result["rule"])
            and not result["nodeid"].endswith(wanted)
        ):
            continue
        if not wanted and known.find(result, target["name"]):
            continue
        bodies.append(
            _body(
                result,
                target,
                summary,
                result["nodeid"] not in failed_before,
                first_seen.get(result["nodeid"]),
            )
        )
    return bodies


def _body(
    result: dict[str, Any],
    target: dict[str, Any],
    summary: dict[str, Any],
    new: bool,
    first_seen: float | None,
) -> str:
    rule = rules().get(result["rule"] or "")
    title = rule.title if rule else result["nodeid"]
    lines = [
        f"## [{target['name']}] {result['rule']}: {title}" + (" (new since the previous run)" if new else ""),
        "",
        f"- **Rule:** `{result['rule']}` ({result['level']}, {result['kind']}): "
        + (rule.behaviour if rule else ""),
        f"- **Docs:** {rule.doc_url} ({rule.doc_section})" if rule else "- **Docs:** (no rule)",
        f"- **Target:** {target['name']} ({target['url']}), run profile {summary['run_profile']}, "
        f"seed {summary['seed']}",
        f"- **Test:** `{result['nodeid']}`",
        f"- **Seen:** {_when(result.get('finished'))}"
        + (
            "; first failure of this test (it passed in the previous run)"
            if new
            else f"; also failed in the previous run (first seen {_when(first_seen)})"
        ),
        "",
        "### Expected / Actual",
        "",
        "```",
        result["message"].strip()[:4000],
        "```",
    ]
    if result.get("example"):
        lines += [
            "",
            "### Minimal failing example",
            "",
            "```",
            result["example"].strip()[:2000],
            "```",
        ]
    for exchange in result.get("exchanges", [])[-3:]:
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
