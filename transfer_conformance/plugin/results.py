"""Each test's verdict (failed: the rule was violated; broken: anything else went wrong) and the
run summary written at the end, after the harness cleaned up and logged out."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import allure
import pytest
from allure_commons.types import AttachmentType

from transfer_conformance import __version__
from transfer_conformance.http.client import UndecodableResponse
from transfer_conformance.http.har import CLEAN_UP
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.plugin.allure_steps import (
    errors_within,
    rule_of,
)
from transfer_conformance.plugin.options import (
    FAILING,
    RUN,
)
from transfer_conformance.run.summary import Result, RunSummary, TargetInfo
from transfer_conformance.target.checks import RuleViolation, message
from transfer_contract.catalogue import Rule


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    state = item.config.stash[RUN]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        rule = rule_of(item)
        status = "passed" if report.passed else "skipped" if report.skipped else "failed"
        message = ""
        example = ""
        if call.excinfo is not None and not report.skipped:
            error = call.excinfo.value
            violations = _violations(error, rule)
            status = "failed" if violations else "broken"
            message = REGISTRY.mask(
                "\n\n".join(str(v) for v in violations) or f"{type(error).__name__}: {error}"
            )
            example = REGISTRY.mask("\n".join(getattr(error, "__notes__", [])))
            if example:
                allure.attach(example, name="minimal failing example", attachment_type=AttachmentType.TEXT)
        # The failing example's requests, enough of them to replay it (transfer-conformance replay).
        history = item.stash.get(FAILING, [])[-REPLAYABLE:]
        state.results.append(
            _result(
                item.nodeid,
                status,
                rule,
                message=message,
                example=example,
                duration_s=round(report.duration, 3),
                exchanges=[e.as_dict() for e in history] if status == "failed" else [],
            )
        )


REPLAYABLE = 40


def _result(nodeid: str, outcome: str, rule: Rule | None, **fields: Any) -> Result:
    """A test's Result, labelled with its rule's id, level, kind and check, finished now."""
    labels = {"rule": rule.id, "level": rule.level, "kind": rule.kind, "check": rule.check} if rule else {}
    return Result(nodeid, outcome, **labels, **fields, finished=time.time())


def _violations(error: BaseException, rule: Rule | None) -> list[BaseException]:
    """Rule violations inside an error (Hypothesis may group several failures): the rule's own
    checks, and answers the test could not read; any other error (a library's assertion, a
    crash) is an environment problem, not a verdict on the target."""
    found: list[BaseException] = []
    for inner in errors_within(error):
        if isinstance(inner, RuleViolation):
            found.append(inner)
        elif isinstance(inner, UndecodableResponse) and rule is not None:
            text = message(rule.id, "a response the suite can read", inner.reason, (inner.exchange,))
            found.append(RuleViolation(rule.id, text))
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[RUN]
    profile = state.profile
    if state.harness is not None:
        if state.traffic is not None:
            state.traffic.testing(CLEAN_UP, None)
        # Each on its own: a clean-up that fails must not keep the agents logged in.
        for step in (state.harness.clean_up, state.harness.log_out):
            with contextlib.suppress(Exception):
                step()
    if state.traffic is not None:
        state.traffic.finish()
    discovered = session.config.getoption("--discover")
    if discovered and state.observations is not None:
        Path(discovered).write_text(REGISTRY.mask(json.dumps(state.observations, indent=1)), encoding="utf-8")
    judged = {result.nodeid for result in state.results}
    why = state.stopped_because or (
        "not run: the run was interrupted (SIGINT or SIGTERM)"
        if exitstatus == pytest.ExitCode.INTERRUPTED
        else "not run"
    )
    for nodeid, rule in state.collected.items():
        if nodeid not in judged and not state.setup_error:
            state.results.append(_result(nodeid, "broken", rule, message=why))
    if state.embedded is not None:
        state.embedded.stop()
    summary = RunSummary(
        suite_version=__version__,
        target=TargetInfo(
            name=profile.name if profile else "",
            url=(profile.base_url or "(embedded)") if profile else "",
            profile_file=profile.source if profile else "",
        ),
        run_profile=state.run_profile,
        seed=_seed(session.config),
        strict=state.strict,
        faults=list(session.config.getoption("--fault")),
        declared_decisions=sorted(profile.decisions) if profile else [],
        xml_transfer_form=(
            f"{state.harness.xml_form} ({state.harness.xml_form_source})" if state.harness else ""
        ),
        started=state.started,
        finished=time.time(),
        setup_error=state.setup_error,
        results=state.results,
        requests_sent=state.harness.api.client.sent if state.harness else 0,
        request_seconds=round(state.harness.api.client.waited_s, 3) if state.harness else 0.0,
    )
    path = session.config.getoption("--run-summary")
    if path:
        summary.save(Path(path))
    alluredir = getattr(session.config.option, "allure_report_dir", None)
    if alluredir and profile:
        Path(alluredir).mkdir(parents=True, exist_ok=True)
        lines = [
            f"target={profile.name}",
            f"target.url={profile.base_url or '(embedded)'}",
            f"run.profile={state.run_profile}",
            f"seed={summary.seed}",
            f"strict={state.strict}",
            f"xml.transfer.form={summary.xml_transfer_form}",
            f"suite.version={__version__}",
        ]
        (Path(alluredir) / "environment.properties").write_text(
            REGISTRY.mask("\n".join(lines)) + "\n", encoding="utf-8"
        )


def _seed(config: pytest.Config) -> str:
    if config.stash[RUN].run_profile == "ci":
        return "derandomized"
    return str(getattr(config.option, "hypothesis_seed", None) or "random")
