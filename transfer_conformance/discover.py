"""`transfer-conformance discover --target NAME`: what this target answers where the docs are
silent, as the profile's [decisions] table.

It runs the decision rules once (the suites' own flows, decisions ignored, two examples, no
shrinking), with their checks recording what the target did instead of judging it, and prints
the entries that differ from rules.yaml's defaults, each with its evidence (the curl). Found:
every status a decision names, the XML transfer form, the 401 body's form, the text and body
limits (searched), whether string ids and characters beyond [A-Za-z0-9] are accepted; the last
three are written even at their defaults, since declared they widen what MUST rules send. `--write`
puts the table into the profile file, replacing those entries and keeping everything else.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from strategies import WIDENING
from transfer_conformance.profile import profile_path
from transfer_conformance.summary import ExitCode, run_command
from transfer_contract.catalogue import rules

EVIDENCE_CHARS = 300


class DiscoverError(ValueError):
    """The discovery run could not judge the target (unreachable, set-up failed)."""


def observe(target: str, target_url: str | None = None) -> list[dict[str, Any]]:
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
        if done.returncode in (ExitCode.USAGE, ExitCode.BROKEN) or not seen.exists():
            raise DiscoverError(f"the discovery run could not judge the target:\n{done.stdout[-2000:]}")
        return json.loads(seen.read_text(encoding="utf-8"))


Found = dict[str, dict[str, tuple[Any, str, str]]]


def evidence_of(observation: dict[str, Any]) -> str:
    """What shows an entry: the request's title, what it was answered, and its curl (one line
    each: a 64 KiB probe body or a line break would not fit in a comment)."""
    curl = " ".join(observation["curl"].split())
    curl = curl if len(curl) <= EVIDENCE_CHARS else curl[:EVIDENCE_CHARS] + " …"
    answered = (
        f"{observation.get('title', 'request')} -> {observation['status']} {observation.get('answer', '')}"
    )
    return " ".join(answered.split()) + (f"\n#   {curl}" if curl else "")


def table(observations: list[dict[str, Any]]) -> Found:
    """rule -> key -> (the value seen most, how often of how many, its evidence), for the
    values that differ from rules.yaml's defaults and for the widening entries."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for observation in observations:
        grouped[(observation["rule"], observation["key"])].append(observation)
    found: Found = defaultdict(dict)
    for (rule_id, key), seen in sorted(grouped.items()):
        counts = Counter(json.dumps(o["value"]) for o in seen)
        value = json.loads(counts.most_common(1)[0][0])
        # A widening entry is written even at its default: declared, it lets MUST generators
        # send what this target was seen to accept (strategies.TextDomain).
        if rules()[rule_id].expect.get(key) == value and WIDENING.get(rule_id) != key:
            continue
        example = next(o for o in seen if json.dumps(o["value"]) == json.dumps(value))
        found[rule_id][key] = (
            value,
            f"seen {counts[json.dumps(value)]} of {len(seen)} times",
            evidence_of(example),
        )
    return dict(found)


def as_toml(found: Found, target: str) -> str:
    lines = [f"# [decisions] discovered by `transfer-conformance discover --target {target}`"]
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
    return "\n".join(lines) + "\n"


def write_into(path: Path, found: Found, text: str) -> None:
    """Put the discovered tables into the profile: drop the tables of the same decisions (and
    the comment lines just above them), keep every other line, append the new ones."""
    headers = {f'[decisions."{rule_id}"]' for rule_id in found}
    kept: list[str] = []
    skipping = False
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            skipping = stripped in headers
            if skipping:
                while (
                    kept and kept[-1].lstrip().startswith("# ") and not kept[-1].startswith("# [decisions]")
                ):
                    kept.pop()
        if not skipping:
            kept.append(line)
    path.write_text("\n".join(kept).rstrip("\n") + "\n\n" + text, encoding="utf-8")


def run_discover(target: str, target_url: str | None, write: bool) -> int:
    found = table(observe(target, target_url))
    text = as_toml(found, target)
    print(text, end="")
    if write:
        path = profile_path(target)
        write_into(path, found, text)
        print(f"written into {path}")
    return ExitCode.OK
