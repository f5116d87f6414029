"""Each test's verdict (failed: the rule was violated; broken: anything else went wrong) and the
run summary written at the end, after the target plugin cleaned up and logged out."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator

import allure
import pytest
from allure_commons.types import AttachmentType

from transfer_conformance import __version__
from transfer_conformance.http.client import Exchange, UndecodableResponse
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.plugin.allure_steps import errors_within, rule_of
from transfer_conformance.plugin.state import FAILING, INTERFERENCE_MARK, RunState, state_of
from transfer_conformance.run.summary import Outcome, RecordedExchange, Result, RunSummary, TargetInfo
from transfer_conformance.target_api.checks import RuleViolation, message
from transfer_conformance.target_api.harness import Harness
from transfer_contract.catalogue import Rule, is_status_key

# The failing example's requests kept in the summary: enough to replay it. A violation of a
# whole generated life (the routing model) keeps the life, so `replay` can re-send it from its
# first chat request; shrinking keeps such lives short.
REPLAYABLE = 40
WHOLE_LIFE = 600


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # JUnit carries what a person reads: Hypothesis' statistics (a base64 blob its plugin adds
    # as a property at tear-down) stay out.
    if hasattr(item, "hypothesis_statistics"):
        del item.hypothesis_statistics
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and not report.passed):
        state_of(item.config).results.append(_verdict(item, call, report))


def _verdict(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> Result:
    rule = rule_of(item)
    status = Outcome.PASSED if report.passed else Outcome.SKIPPED if report.skipped else Outcome.FAILED
    text = example = ""
    evidence: tuple[Exchange, ...] = ()
    keep = REPLAYABLE
    if call.excinfo is not None and not report.skipped:
        status, text, example, evidence, keep = _failure(call.excinfo.value, rule)
    state = state_of(item.config)
    disturbed = _disturbed(state, item, text) if status is Outcome.FAILED else None
    if disturbed is not None:
        # Another client on the same agents can make a conformant target look wrong: the
        # result is broken with that cause, never a violation.
        status, evidence, text = Outcome.BROKEN, (), disturbed
    judged = _server_error(state, rule) if status is not Outcome.FAILED and state.harness else None
    if state.harness is not None:
        state.harness.api.client.server_errors.clear()
    if judged is not None:
        # The target's 5xx (or an answer it cut short) is its fault, not the environment's.
        status, text, example, evidence = Outcome.FAILED, judged.args[0], "", judged.evidence
    history = item.stash.get(FAILING, [])[-keep:]
    return Result.of_rule(
        item.nodeid,
        status,
        rule,
        message=text,
        example=example,
        duration_s=round(report.duration, 3),
        exchanges=[RecordedExchange.of(e) for e in history] if status is Outcome.FAILED else [],
        evidence=[RecordedExchange.of(e) for e in evidence] if status is Outcome.FAILED else [],
    )


def _failure(error: BaseException, rule: Rule | None) -> tuple[Outcome, str, str, tuple[Exchange, ...], int]:
    """What a test's error says: failed (a violation of its rule) or broken, the message, the
    minimal example, the evidence, and how many requests to keep for replay."""
    violations = _violations(error, rule)
    status = Outcome.FAILED if violations else Outcome.BROKEN
    evidence = violations[0].evidence if violations else ()
    keep = WHOLE_LIFE if violations and getattr(violations[0], "whole_life", False) else REPLAYABLE
    text = REGISTRY.mask("\n\n".join(str(v) for v in violations) or _broken(error))
    example = REGISTRY.mask("\n".join(getattr(error, "__notes__", [])))
    if example:
        allure.attach(example, name="minimal failing example", attachment_type=AttachmentType.TEXT)
    return status, text, example, evidence, keep


def _disturbed(state: RunState, item: pytest.Item, text: str) -> str | None:
    """A failing test's message as a broken one, when another client was seen during it."""
    if state.harness is None:
        return None
    seen = _interference(state.harness, item.stash.get(INTERFERENCE_MARK, 0))
    if not seen:
        return None
    return (
        "not judged: another client used the same agents during this test ("
        + "; ".join(seen[:3])
        + "). What looked like a violation:\n"
        + text
    )


def _interference(harness: Harness, mark: int) -> list[str]:
    """Signs of another client since the test started: chats this run did not open given to
    its agents, or (looked at only now, for a failing test) an agent not Online though this run
    set it so."""
    seen = harness.interference[mark:]
    if seen:
        return seen
    with contextlib.suppress(Exception), harness.api.client.grace():
        for change in harness.availability_changed_by_others():
            if "(it set Online)" in change:
                harness.note_interference(change)
    return harness.interference[mark:]


def _server_error(state: RunState, rule: Rule | None) -> RuleViolation | None:
    """The violation a test's 5xx answers (or answers cut short) make of its rule, unless the
    profile declares that status for one of its decisions; None when there is none."""
    declared = {
        value
        for entry in state.profile.decisions.values()
        for key, value in entry.items()
        if is_status_key(key)
    }
    assert state.harness is not None
    for exchange in state.harness.api.client.server_errors:
        if rule is None or (exchange.status in declared and not exchange.error):
            continue
        answer = f"{exchange.status}" + (f", then {exchange.error}" if exchange.error else "")
        expected = "an answer of the target's own, not a server error or an answer cut short"
        if exchange.status is not None and exchange.status >= 500:
            expected = "no 5xx: a server error is the target's fault (declare the status if it is a decision)"
        text = REGISTRY.mask(message(rule.id, expected, answer, (exchange,)))
        return RuleViolation(rule.id, text, (exchange,))
    return None


def _broken(error: BaseException) -> str:
    """What broke a test, in words: the innermost errors' messages, no exception groups."""
    inner = [e for e in errors_within(error) if not isinstance(e, BaseExceptionGroup)]
    return "\n".join(dict.fromkeys(str(e) or type(e).__name__ for e in inner)) or str(error)


def _violations(error: BaseException, rule: Rule | None) -> list[RuleViolation]:
    """Rule violations inside an error (Hypothesis may group several failures): the rule's own
    checks, and answers the test could not read; any other error (a library's assertion, a
    crash) is an environment problem, not a verdict on the target."""
    found: list[RuleViolation] = []
    for inner in errors_within(error):
        if isinstance(inner, RuleViolation):
            found.append(inner)
        elif isinstance(inner, UndecodableResponse) and rule is not None:
            text = message(rule.id, "a response the suite can read", inner.reason, (inner.exchange,))
            found.append(RuleViolation(rule.id, text, (inner.exchange,)))
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Unfinished tests broken, what discover observed, and the run summary."""
    state = state_of(session.config)
    judged = {result.nodeid for result in state.results}
    why = state.stopped_because or (
        "not run: the run was interrupted (SIGINT or SIGTERM)"
        if exitstatus == pytest.ExitCode.INTERRUPTED
        else "not run"
    )
    for nodeid, rule in state.collected.items():
        if nodeid not in judged and not state.setup_error:
            state.results.append(Result.of_rule(nodeid, Outcome.BROKEN, rule, message=why))
    if state.harness is not None and state.harness.interference:
        _not_judged_beside_another_client(state.results, state.harness.interference)
    discovered = state.options.discover
    if discovered and state.observations is not None:
        discovered.write_text(REGISTRY.mask(json.dumps(state.observations, indent=1)), encoding="utf-8")
    try:
        summary_of(state).save(state.options.summary_path)
    except OSError as error:
        # The command says the run is broken (no readable summary); the cause in one line.
        print(f"\nerror: the run's summary could not be written: {error.strerror or error}", file=sys.stderr)


def _not_judged_beside_another_client(results: list[Result], signs: list[str]) -> None:
    """Another client used the run's agents: which results it disturbed cannot be told (a
    state it changed between two of our calls leaves no trace), so no result of the run is a
    violation; each keeps what it saw, broken with that cause."""
    for result in results:
        if result.outcome is Outcome.FAILED:
            result.outcome = Outcome.BROKEN
            result.message = (
                f"not judged: another client used the same agents during this run (first: {signs[0]}). "
                "What looked like a violation:\n" + result.message
            )


def summary_of(state: RunState) -> RunSummary:
    """The run summary of the run so far."""
    profile, harness = state.profile, state.harness
    return RunSummary(
        suite_version=__version__,
        target=TargetInfo(
            name=profile.name,
            url=profile.base_url or "(embedded)",
            profile_file=profile.source,
            url_override=state.options.target_url or "",
        ),
        run_profile=state.options.profile,
        seed=state.seed,
        strict=state.options.strict,
        faults=list(state.options.faults),
        declared_decisions=sorted(profile.decisions),
        xml_transfer_form=state.xml_form,
        started=state.started,
        finished=time.time(),
        setup_error=state.setup_error,
        stopped=state.stopped_because,
        results=state.results,
        requests_sent=harness.api.client.sent if harness else 0,
        request_seconds=round(harness.api.client.waited_s, 3) if harness else 0.0,
        interference=list(harness.interference) if harness else [],
        write_error=state.write_error,
    )
