"""`transfer-conformance diff A B`: what changed between two runs, rule by rule.

A and B are run folders (`run --output`): their summaries give each rule's verdict, their
traffic.har the statuses, body shapes and times the rule's requests met. A rule that got worse
(ok -> violated or broken, broken -> violated) makes the diff exit 1, so it can gate a release:
the release may not change what the suite sees. `--report` puts the diff into B's HTML report
as a page of its own (group "Release diff").
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import re
import statistics
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from transfer_conformance.errors import ExitCode, UsageError
from transfer_conformance.http.har import json_shape
from transfer_conformance.paths import REPORTS
from transfer_conformance.run.known_issues import load_known_issues
from transfer_conformance.run.report import ReportError, generate_report
from transfer_conformance.run.summary import HAR_FILE, RESULTS_FOLDER, RunSummary, run_command
from transfer_conformance.run.verdicts import NO_RULE, RANK, Verdict, rule_verdicts
from transfer_conformance.target_api.profile import load_profile
from transfer_contract.catalogue import rules

# An id in a path (session ids, chat ids, account): any segment holding a digit.
ID_SEGMENT = re.compile(r"\d")


class DiffError(UsageError):
    """A folder that holds no run."""


@dataclass
class RuleView:
    verdict: Verdict = Verdict.SKIPPED
    statuses: set[str] = field(default_factory=set)
    shapes: set[str] = field(default_factory=set)
    times_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else 0.0


def template(url: str) -> str:
    path = urlparse(url).path.split("/api/account/", 1)[-1]
    return "/".join("{id}" if ID_SEGMENT.search(part) else part for part in path.split("/"))


def load_run(folder: Path) -> dict[str, RuleView]:
    summary = RunSummary.of_run(folder)
    # Every failure counts here, known issue or not, strict or not: a diff compares the target.
    verdicts = rule_verdicts(summary, strict=True, known=None)
    views = {rule: RuleView(found.verdict) for rule, found in verdicts.items() if rule != NO_RULE}
    har = folder / HAR_FILE
    if har.exists():
        for entry in json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]:
            view = views.get(entry.get("_rule") or "")
            if view is None:
                continue
            request, response = entry["request"], entry["response"]
            view.statuses.add(f"{request['method']} {template(request['url'])} -> {response['status']}")
            with contextlib.suppress(ValueError):
                view.shapes.add(
                    f"{response['status']} {json_shape(json.loads(response['content'].get('text') or ''))}"
                )
            view.times_ms.append(float(entry["time"]))
    return views


@dataclass
class Change:
    rule: str
    before: Verdict
    after: Verdict
    notes: list[str]

    @property
    def worse(self) -> bool:
        """Worse: a higher rank, or a rule that lost its verdict (violated or passed -> broken:
        whatever B's target does there is no longer judged)."""
        lost = self.after is Verdict.BROKEN and self.before is not Verdict.BROKEN
        return lost or RANK[self.after] > RANK[self.before]

    @property
    def better(self) -> bool:
        return not self.worse and RANK[self.after] < RANK[self.before]


def compare(a: dict[str, RuleView], b: dict[str, RuleView], timing_ms: float) -> list[Change]:
    changes = []
    catalogue = list(rules())
    for rule in sorted(set(a) | set(b), key=lambda r: catalogue.index(r) if r in catalogue else 999):
        before, after = a.get(rule, RuleView()), b.get(rule, RuleView())
        notes = [f"status seen only in B: {s}" for s in sorted(after.statuses - before.statuses)]
        notes += [f"status seen only in A: {s}" for s in sorted(before.statuses - after.statuses)]
        notes += [f"body shape only in B: {s[:160]}" for s in sorted(after.shapes - before.shapes)]
        notes += [f"body shape only in A: {s[:160]}" for s in sorted(before.shapes - after.shapes)]
        slower = after.median_ms - before.median_ms
        if abs(slower) > timing_ms:
            notes.append(f"median request time {before.median_ms:.0f} ms -> {after.median_ms:.0f} ms")
        if before.verdict != after.verdict or notes:
            changes.append(Change(rule, before.verdict, after.verdict, notes))
    return changes


def table(changes: list[Change]) -> str:
    if not changes:
        return "no change: every rule has the same verdict, statuses, body shapes and times"
    lines = [f"{'rule':44} {'A':9} {'B':9} change"]
    for change in changes:
        mark = "WORSE" if change.worse else ("better" if change.better else "same")
        lines.append(f"{change.rule:44} {change.before:9} {change.after:9} {mark}")
        lines += [f"{'':44} - {note}" for note in change.notes]
    return "\n".join(lines)


def markdown(changes: list[Change], a: Path, b: Path) -> str:
    lines = [f"# What changed: `{a}` -> `{b}`", ""]
    if not changes:
        return "\n".join([*lines, "No change.", ""])
    lines += ["| rule | A | B | worse | what else changed |", "|---|---|---|---|---|"]
    for change in changes:
        notes = "<br>".join(note.replace("|", "\\|") for note in change.notes) or "-"
        worse = "yes" if change.worse else "no"
        lines.append(f"| {change.rule} | {change.before} | {change.after} | {worse} | {notes} |")
    return "\n".join([*lines, ""])


def as_html(changes: list[Change], a: Path, b: Path) -> str:
    """The diff as an HTML table, every value escaped (it holds what targets answered)."""
    head = f"<p>A: <code>{html.escape(str(a))}</code>, B: <code>{html.escape(str(b))}</code></p>"
    if not changes:
        return head + "<p>No change: every rule has the same verdict, statuses, body shapes and times.</p>"
    rows = []
    for change in changes:
        notes = "<br>".join(html.escape(note) for note in change.notes) or "-"
        worse = "<b>yes</b>" if change.worse else "no"
        cells = (html.escape(change.rule), change.before, change.after, worse, notes)
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    return (
        head
        + "<table><tr><th>rule</th><th>A</th><th>B</th><th>worse</th><th>what else changed</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def add_to_report(changes: list[Change], a: Path, b: Path) -> Path:
    """Put the diff into B's HTML report as a page of its own (group "Release diff"), failed
    when a rule got worse, and build B's report again; the report's index."""
    results = b / RESULTS_FOLDER
    summary = RunSummary.of_run(b)
    if not results.is_dir():
        raise DiffError(f"{b}: no allure-results to build a report from")
    # One page per baseline: diffing B against the same A again replaces it.
    page_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"transfer-conformance-diff:{a.resolve()}"))
    worse = [change.rule for change in changes if change.worse]
    now = int(time.time() * 1000)
    markdown_name = f"{page_id}-attachment.md"
    (results / markdown_name).write_text(markdown(changes, a, b), encoding="utf-8")
    result = {
        "uuid": page_id,
        "historyId": hashlib.md5(f"diff:{a.name}".encode()).hexdigest(),
        "name": f"What changed since {a.name}",
        "fullName": f"transfer-conformance diff {a.name} {b.name}",
        "status": "failed" if worse else "passed",
        "statusDetails": {"message": f"got worse: {', '.join(worse)}"} if worse else {},
        "stage": "finished",
        "descriptionHtml": as_html(changes, a, b),
        "labels": [
            {"name": "feature", "value": "Release diff"},
            {"name": "story", "value": f"{a.name} -> {b.name}"},
            {"name": "suite", "value": "Release diff"},
        ],
        "attachments": [{"name": "diff.md", "source": markdown_name, "type": "text/markdown"}],
        "start": now,
        "stop": now,
    }
    (results / f"{page_id}-result.json").write_text(json.dumps(result), encoding="utf-8")
    try:
        return generate_report(
            results,
            summary,
            root=b,
            append_history=False,
            variables={"Compared with": a.name},
            known=load_known_issues(),
        )
    except ReportError as error:
        raise DiffError(f"the report could not be built: {error}") from None


def run_targets(targets: list[str], folder: Path, rule_ids: tuple[str, ...] = ()) -> list[Path]:
    """Run the suite (only ``rule_ids``, if given) against each target now, at the same time
    (each its own process), into ``folder``/<n>; the run folders, in the order given."""
    outputs = [folder / f"{number}-{Path(target).stem}" for number, target in enumerate(targets)]
    only = [argument for rule_id in rule_ids for argument in ("--rule", rule_id)]
    processes = [
        subprocess.Popen(
            run_command(target, output, "--no-report", *only),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for target, output in zip(targets, outputs, strict=True)
    ]
    for process in processes:
        process.wait()
    return outputs


def run_diff(
    a: Path,
    b: Path,
    timing_ms: float = 200.0,
    markdown_path: Path | None = None,
    report: bool = False,
) -> int:
    changes = compare(load_run(a), load_run(b), timing_ms)
    print(table(changes))
    if markdown_path is not None:
        markdown_path.write_text(markdown(changes, a, b), encoding="utf-8")
        print(f"markdown: {markdown_path}")
    if report:
        print(f"report (with the diff under Release diff): {add_to_report(changes, a, b)}")
    return ExitCode.VIOLATION if any(change.worse for change in changes) else ExitCode.OK


def register(commands: argparse._SubParsersAction) -> None:
    diff = commands.add_parser("diff", help="what changed between two runs (run folders), rule by rule")
    diff.add_argument("a", type=Path, nargs="?", help="the earlier run's folder (run --output)")
    diff.add_argument("b", type=Path, nargs="?", help="the later run's folder")
    diff.add_argument(
        "--target",
        action="append",
        default=[],
        help="twice: run these two targets now, at once, and diff them",
    )
    diff.add_argument("--output", default=None, help="with --target: where the two runs go (reports/diff)")
    diff.add_argument(
        "--rule", action="append", default=[], help="with --target: run only this rule (repeatable)"
    )
    diff.add_argument(
        "--timing-ms", type=float, default=200.0, help="report a median time change beyond this"
    )
    diff.add_argument("--markdown", type=Path, default=None, help="also write the diff as markdown here")
    diff.add_argument(
        "--report", action="store_true", help="put the diff into B's HTML report (group Release diff)"
    )
    diff.set_defaults(handler=command_diff)


def command_diff(args: argparse.Namespace) -> int:
    folders = [args.a, args.b]
    if args.target:
        if len(args.target) != 2 or args.a or args.b:
            raise UsageError("diff takes two run folders, or --target twice (two targets run now)")
        for target in args.target:
            load_profile(target)  # a clear error before anything runs
        unknown = [rule_id for rule_id in args.rule if rule_id not in rules()]
        if unknown:
            raise UsageError(f"unknown rule {', '.join(unknown)}; see specs/rules.yaml")
        output = Path(args.output) if args.output else REPORTS / "diff"
        folders = run_targets(args.target, output, tuple(args.rule))
    elif args.rule:
        raise UsageError("--rule applies to --target (two targets run now), not to run folders")
    elif not (args.a and args.b):
        raise UsageError("diff takes two run folders, or --target twice (two targets run now)")
    return run_diff(folders[0], folders[1], args.timing_ms, args.markdown, args.report)
