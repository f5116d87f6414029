"""Per-rule verdicts of a run, and the run's exit code: the one reading every command shares.

The run's table, `diff`, `bench`, `replay` and `file-regression` judge a run through
`rule_verdicts`; whether known issues count is the visible ``known`` argument (None: every
failure counts, as `diff` and `bench` want).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from transfer_conformance.errors import ExitCode
from transfer_conformance.run.known_issues import KnownIssues
from transfer_conformance.run.summary import Outcome, RunSummary
from transfer_contract.catalogue import rules

NO_RULE = "(no rule)"


class Verdict(StrEnum):
    """A rule's verdict over its tests, worst first in `RANK`."""

    OK = "ok"
    SKIPPED = "skipped"
    KNOWN = "known"
    BROKEN = "broken"
    VIOLATED = "violated"


# How bad a verdict is, for `diff`: a rule that loses its verdict got worse.
RANK = {Verdict.OK: 0, Verdict.SKIPPED: 0, Verdict.KNOWN: 0, Verdict.BROKEN: 1, Verdict.VIOLATED: 2}


@dataclass
class RuleVerdict:
    """One rule's counts and verdict; ``counts`` says whether a violation fails the run."""

    rule: str
    level: str
    verdict: Verdict
    counts: Counter[str] = field(default_factory=Counter)
    counts_toward: bool = False
    ticket: str = ""

    @property
    def fails_run(self) -> bool:
        return self.verdict is Verdict.VIOLATED and self.counts_toward


def rule_verdicts(summary: RunSummary, *, strict: bool, known: KnownIssues | None) -> dict[str, RuleVerdict]:
    """Each rule's verdict, in catalogue order. With ``known``, a failure or breakage listed
    there counts as known (its ticket kept), not as a violation."""
    catalogue = rules()
    counts: dict[str, Counter[str]] = {}
    tickets: dict[str, str] = {}
    for result in summary.results:
        rule_id = result.rule or NO_RULE
        outcome = str(result.outcome)
        issue = None
        if known is not None and result.outcome in (Outcome.FAILED, Outcome.BROKEN):
            issue = known.find(result, summary.target.name)
        if issue is not None:
            outcome = Verdict.KNOWN.value
            tickets[rule_id] = issue.ticket or "muted"
        counts.setdefault(rule_id, Counter())[outcome] += 1
    order = list(catalogue)
    verdicts = {}
    for rule_id in sorted(counts, key=lambda r: order.index(r) if r in catalogue else len(order)):
        found = counts[rule_id]
        rule = catalogue.get(rule_id)
        if found[Outcome.FAILED]:
            verdict = Verdict.VIOLATED
        elif found[Verdict.KNOWN] and not found[Outcome.BROKEN]:
            verdict = Verdict.KNOWN
        elif found[Outcome.BROKEN]:
            verdict = Verdict.BROKEN
        elif found[Outcome.PASSED]:
            verdict = Verdict.OK
        else:
            verdict = Verdict.SKIPPED
        verdicts[rule_id] = RuleVerdict(
            rule_id,
            rule.level if rule else "-",
            verdict,
            found,
            counts_toward=rule is not None and (rule.gating or strict),
            ticket=tickets.get(rule_id, ""),
        )
    return verdicts


def exit_code(
    verdicts: dict[str, RuleVerdict], *, setup_error: str = "", interrupted: bool = False
) -> ExitCode:
    """The run's exit code: 1 when a rule that counts was violated (even beside broken results),
    3 when set-up broke, a result broke or the run was cut short, else 0."""
    if setup_error:
        return ExitCode.BROKEN
    if any(v.fails_run for v in verdicts.values()):
        return ExitCode.VIOLATION
    if interrupted or any(v.verdict is Verdict.BROKEN for v in verdicts.values()):
        return ExitCode.BROKEN
    return ExitCode.OK
