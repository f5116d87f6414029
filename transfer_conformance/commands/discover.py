"""`transfer-conformance discover --target NAME`: what this target answers where the docs are
silent, as the profile's [decisions] table.

It runs the decision rules once (the suites' own flows, decisions ignored, two examples, no
shrinking), with their checks recording what the target did instead of judging it, and prints
the entries that differ from rules.yaml's defaults, each with its evidence (the curl). Found:
every status a decision names, the XML transfer form, the 401 body's form, the text and body
limits (searched), whether string ids and characters beyond [A-Za-z0-9] are accepted; the last
three are written even at their defaults, since declared they widen what MUST rules send. `--write`
puts the table into the profile file, replacing those entries and keeping everything else.

It learns choices, not bugs: a refusal status is learnt only as a 4xx, and a decision whose
checks fail in a way no setting describes is shown commented out, never declared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transfer_conformance.errors import BrokenError, ExitCode
from transfer_conformance.run.summary import SUMMARY_FILE, RunSummary, run_command
from transfer_conformance.target_api.profile import load_profile, profile_path
from transfer_contract.catalogue import is_status_key, rules
from transfer_contract.transfer_body import WIDENING

EVIDENCE_CHARS = 300


class DiscoverError(BrokenError):
    """The discovery run could not judge the target (unreachable, set-up failed)."""


@dataclass
class Seen:
    """What the discovery run saw: the checks' observations; the decision rules whose checks
    failed and those a test of which could not be judged (broken: set-up, deadline, a
    misbehaving answer), each rule -> the first such result's message."""

    observations: list[dict[str, Any]]
    failures: dict[str, str]
    unjudged: dict[str, str]


def first_by_rule(summary: RunSummary, outcome: str) -> dict[str, str]:
    """rule -> the message of its first result with ``outcome``, Expected / Actual when it has them."""
    found: dict[str, str] = {}
    for result in summary.results:
        if result.outcome == outcome and result.rule and result.rule not in found:
            lines = result.message.splitlines()
            judged = [line for line in lines if line.startswith(("Expected:", "Actual:"))]
            found[result.rule] = " / ".join(judged or lines[:1])
    return found


def observe(target: str, target_url: str | None = None) -> Seen:
    """Run the decision rules against ``target`` and return what their checks saw."""
    decisions = [rule.id for rule in rules().values() if rule.kind == "decision" and rule.check == "suite"]
    with tempfile.TemporaryDirectory() as folder:
        seen = Path(folder) / "observations.json"
        command = run_command(target, Path(folder) / "run", "--ignore-decisions", "--no-report")
        command += ["--no-shrink", "--examples", "2", "--discover", str(seen)]
        if target_url:
            command += ["--target-url", target_url]
        for rule_id in decisions:
            command += ["--rule", rule_id]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        summary = RunSummary.load(Path(folder) / "run" / SUMMARY_FILE)
        # A test that broke (a deadline, an odd answer) costs its own decisions, not the rest:
        # only a run that never judged anything gives nothing to learn from.
        if done.returncode == ExitCode.USAGE or summary is None or summary.setup_error or not seen.exists():
            raise DiscoverError(f"the discovery run could not judge the target:\n{done.stdout[-2000:]}")
        return Seen(
            json.loads(seen.read_text(encoding="utf-8")),
            first_by_rule(summary, "failed"),
            first_by_rule(summary, "broken"),
        )


def learnable(key: str, value: Any) -> bool:
    """Whether a value may be a decision: a refusal's status is a 4xx (a 2xx where an error is
    due, or a 5xx, is a broken rule, not a choice)."""
    if is_status_key(key):
        return isinstance(value, int) and 400 <= value < 500
    return True


Found = dict[str, dict[str, tuple[Any, str, str]]]


def answered(observation: dict[str, Any]) -> str:
    """The observed request's title, and the status and body shape it was answered with."""
    title, answer = observation.get("title", "request"), observation.get("answer", "")
    return " ".join(f"{title} -> {observation['status']} {answer}".split())


def evidence_of(observation: dict[str, Any]) -> str:
    """What shows an entry: answered(), then the curl on a comment line of its own (each one
    line: a 64 KiB probe body or a line break would not fit in a comment)."""
    curl = " ".join(observation["curl"].split())
    curl = curl if len(curl) <= EVIDENCE_CHARS else curl[:EVIDENCE_CHARS] + " …"
    return answered(observation) + (f"\n#   {curl}" if curl else "")


def table(observations: list[dict[str, Any]]) -> tuple[Found, dict[str, str]]:
    """rule -> key -> (the value seen most, how often of how many, its evidence), for the
    values that differ from rules.yaml's defaults and for the widening entries; and the rules
    whose value seen most cannot be a choice (rule -> why)."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for observation in observations:
        grouped[(observation["rule"], observation["key"])].append(observation)
    found: Found = defaultdict(dict)
    not_choices: dict[str, str] = {}
    for (rule_id, key), seen in sorted(grouped.items()):
        counts = Counter(json.dumps(o["value"]) for o in seen)
        value = json.loads(counts.most_common(1)[0][0])
        example = next(o for o in seen if json.dumps(o["value"]) == json.dumps(value))
        if not learnable(key, value):
            not_choices[rule_id] = f"{key} {value} where an error (4xx) was due: {answered(example)}"
            continue
        # A widening entry is written even at its default: declared, it lets MUST generators
        # send what this target was seen to accept (strategies.TextDomain).
        if rules()[rule_id].expect.get(key) == value and WIDENING.get(rule_id) != key:
            continue
        how_often = f"seen {counts[json.dumps(value)]} of {len(seen)} times"
        found[rule_id][key] = (value, how_often, evidence_of(example))
    for rule_id in not_choices:
        found.pop(rule_id, None)
    return dict(found), not_choices


BEGIN = "# --- discovered by `transfer-conformance discover` (replaced by its next --write) ---"
END = "# --- end of what discover wrote ---"


def as_toml(found: Found, target: str, unexplained: dict[str, str] | None = None) -> str:
    """The table to paste; ``unexplained``: decision rules the target does not follow in a way
    no setting describes (rule -> what was seen), shown commented out, never declared."""
    lines = [BEGIN, f"# `transfer-conformance discover --target {target}`"]
    if not found:
        lines.append("# (every observed decision matches rules.yaml's defaults: nothing to declare)")
    elif all(
        rules()[rule_id].expect.get(key) == value
        for rule_id, entries in found.items()
        for key, (value, _, _) in entries.items()
    ):
        lines.append("# (rules.yaml's defaults hold; declared, the entries below widen what MUST rules send)")
    for rule_id, entries in found.items():
        lines.append("")
        for key, (value, how_often, evidence) in entries.items():
            lines.append(f"# {key} = {json.dumps(value)}, {how_often}: {evidence}")
        lines.append(f'[decisions."{rule_id}"]')
        lines += [f"{key} = {json.dumps(value)}" for key, (value, _, _) in entries.items()]
    for rule_id, why in (unexplained or {}).items():
        lines += [
            "",
            f"# {rule_id}: the target does not do what rules.yaml decides, and no setting says what",
            f"# it does instead ({' '.join(why.split())[:EVIDENCE_CHARS]}).",
            "# A strict run fails on it. If this is the target's own decision, not a bug, uncomment:",
            f'# [decisions."{rule_id}"]',
            f'# skip = "this target decides otherwise than: {rules()[rule_id].title}"',
        ]
    return "\n".join([*lines, END]) + "\n"


def write_into(path: Path, found: Found, text: str) -> None:
    """Put the discovered tables into the profile: drop what an earlier --write put there, and
    the tables of the same decisions (with the comment lines just above them); keep every
    other line; append the new block."""
    headers = {f'[decisions."{rule_id}"]' for rule_id in found}
    kept: list[str] = []
    skipping = earlier = False
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            earlier = True
        if earlier:
            earlier = stripped != END
            continue
        if stripped.startswith("["):
            skipping = stripped in headers
            if skipping:
                while kept and kept[-1].lstrip().startswith("# "):
                    kept.pop()
        if not skipping:
            kept.append(line)
    path.write_text("\n".join(kept).rstrip("\n") + "\n\n" + text, encoding="utf-8")


def run_discover(target: str, target_url: str | None, write: bool) -> int:
    seen = observe(target, target_url)
    found, not_choices = table(seen.observations)
    unexplained = {rule: why for rule, why in seen.failures.items() if rule not in found}
    unexplained.update(not_choices)
    text = as_toml(found, target, unexplained)
    print(text, end="")
    if write:
        path = profile_path(target)
        write_into(path, found, text)
        print(f"written into {path}")
    if unexplained:
        print(f"{len(unexplained)} decision(s) the target does not follow as decided: see above")
    if seen.unjudged:
        # What was learnt stands (and is written); the rest needs another look, so exit 3.
        print(f"{len(seen.unjudged)} decision(s) could not be judged, nothing learnt for them:")
        for rule_id, why in seen.unjudged.items():
            print(f"  {rule_id}: {' '.join(why.split())[:EVIDENCE_CHARS]}")
        return ExitCode.BROKEN
    return ExitCode.OK


def register(commands: argparse._SubParsersAction) -> None:
    discover = commands.add_parser(
        "discover", help="what the target answers where the docs are silent, as a [decisions] table"
    )
    discover.add_argument("--target", default="reference", help="profile name or .toml path")
    discover.add_argument("--target-url", default=None, help="override every base URL of the profile")
    discover.add_argument("--write", action="store_true", help="put the table into the profile file")
    discover.set_defaults(handler=command_discover)


def command_discover(args: argparse.Namespace) -> int:
    load_profile(args.target)  # a clear error for a profile that cannot work, before the run
    return run_discover(args.target, args.target_url, args.write)
