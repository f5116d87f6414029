"""The pytest side of the suite: target set-up, rule metadata, recording and the run summary.

suites/conftest.py loads this module. It decides the target in one place (`--target`,
`--target-url`), turns each test's rule marker into Allure labels and links, records every
request of the last example as an Allure step with request, response and curl, and writes a
JSON summary that the CLI turns into the per-rule table and the exit code.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import allure
import pytest
from allure_commons.types import AttachmentType
from hypothesis import HealthCheck, Phase, settings

from reference_target.server import EmbeddedReference
from strategies import TextDomain, use_domain
from transfer_conformance import __version__
from transfer_conformance.api import ChatApi, SetupError
from transfer_conformance.client import Exchange, RecordingClient, TargetUnreachable
from transfer_conformance.flow import Harness
from transfer_conformance.profile import ConfigError, TargetProfile, load_profile
from transfer_conformance.secrets import REGISTRY
from transfer_conformance.summary import RUN_PROFILES, ExitCode, Result, RunSummary, TargetInfo
from transfer_conformance.verdict import RuleCheck
from transfer_contract.catalogue import Rule, rules

__all__ = [
    "one_test_scope",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "rule",
    "target",
]

EPIC = "Transfer a Chat conformance"
SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": False,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
}
# Example budgets per run profile. ci is derandomized: the gating run is repeatable.
settings.register_profile("dev", max_examples=5, **_COMMON)
settings.register_profile("ci", max_examples=8, derandomize=True, **_COMMON)
settings.register_profile("nightly", max_examples=60, **_COMMON)
# Schemathesis cases per operation and mode, by run profile.
CONTRACT_EXAMPLES = {"dev": 6, "ci": 8, "nightly": 50}


def contract_budget(config: pytest.Config) -> int:
    return config.getoption("--max-examples") or CONTRACT_EXAMPLES[config.getoption("--suite-profile")]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("transfer-conformance")
    group.addoption("--target", default="reference", help="profile name or .toml path")
    group.addoption("--target-url", default=None, help="override every base URL of the profile")
    group.addoption("--suite-profile", default="ci", choices=RUN_PROFILES)
    group.addoption("--strict-rules", action="store_true", help="SHOULD rules fail the run too")
    group.addoption("--rule", action="append", default=[], help="run only this rule (repeatable)")
    group.addoption("--run-summary", default=None, help="write the JSON run summary here")
    group.addoption("--max-examples", type=int, default=None, help="override the example budget")
    group.addoption("--no-shrink", action="store_true", help="report failures unshrunk (faster)")
    group.addoption(
        "--fault", action="append", default=[], help="embedded reference: start it with this fault"
    )
    group.addoption(
        "--ignore-decisions",
        action="store_true",
        help="forget the profile's [decisions]: rules.yaml's defaults, MUST generators unwidened",
    )


@dataclass
class RunState:
    profile: TargetProfile | None = None
    run_profile: str = "ci"
    strict: bool = False
    embedded: Any = None
    harness: Harness | None = None
    setup_error: str = ""
    results: list[Result] = field(default_factory=list)
    started: float = field(default_factory=time.time)


RUN = pytest.StashKey[RunState]()
FAILING = pytest.StashKey[list[Exchange]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(id): the rule of specs/rules.yaml a test checks")
    state = RunState(
        run_profile=config.getoption("--suite-profile"),
        strict=config.getoption("--strict-rules"),
    )
    config.stash[RUN] = state
    settings.load_profile(state.run_profile)
    budget = config.getoption("--max-examples")
    overrides: dict[str, Any] = {"max_examples": budget} if budget else {}
    if config.getoption("--no-shrink"):
        overrides["phases"] = [p for p in Phase if p not in (Phase.shrink, Phase.explain)]
    if overrides:
        settings.register_profile("adjusted", parent=settings.get_profile(state.run_profile), **overrides)
        settings.load_profile("adjusted")
    try:
        profile = load_profile(config.getoption("--target"))
        if config.getoption("--target-url"):
            profile.with_url(config.getoption("--target-url"))
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    if config.getoption("--ignore-decisions"):
        profile.decisions = {}
    # MUST generators widen only to what this profile explicitly declares the target accepts.
    use_domain(TextDomain.from_decisions(profile.decisions))
    state.profile = profile


def rule_of(item: pytest.Item) -> Rule | None:
    marker = item.get_closest_marker("rule")
    return rules().get(marker.args[0]) if marker else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--rule"))
    kept, dropped = [], []
    for item in items:
        rule = rule_of(item)
        if wanted and (rule is None or rule.id not in wanted):
            dropped.append(item)
            continue
        kept.append(item)
        item.add_marker(pytest.mark.allure_label(item.nodeid, label_type="nodeid"))
        if rule is None:
            continue
        item.add_marker(pytest.mark.allure_label(EPIC, label_type="epic"))
        item.add_marker(pytest.mark.allure_label(rule.feature, label_type="feature"))
        item.add_marker(pytest.mark.allure_label(rule.title, label_type="story"))
        item.add_marker(pytest.mark.allure_label(SEVERITY[rule.level], label_type="severity"))
        item.add_marker(pytest.mark.allure_label(rule.id, label_type="rule"))
        item.add_marker(pytest.mark.allure_label(rule.level, label_type="level"))
        item.add_marker(pytest.mark.allure_label(rule.kind, label_type="tag"))
        item.add_marker(
            pytest.mark.allure_link(rule.doc_url, link_type="link", name=f"docs: {rule.doc_section}")
        )
        item.add_marker(pytest.mark.allure_description(describe(item, rule)))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def describe(item: pytest.Item, rule: Rule) -> str:
    """The Allure description: the docstring (dedented), the rule and its level."""
    doc = inspect.getdoc(getattr(item, "function", None)) or ""
    parts = [doc, "", f"Rule `{rule.id}` ({rule.level}, {rule.kind}): {rule.behaviour}"]
    if rule.reason:
        parts.append(f"Why we decided so: {rule.reason}")
    parts.append(f"Docs: {rule.doc_url} ({rule.doc_section})")
    return "\n".join(parts)


# ---------------------------------------------------------------------- the target
def _start_harness(config: pytest.Config) -> Harness:
    state = config.stash[RUN]
    profile = state.profile
    assert profile is not None
    if profile.embedded and not profile.base_url:
        # The embedded simulator is seeded from the profile itself (targets/reference.toml).
        state.embedded = EmbeddedReference(tuple(config.getoption("--fault")), Path(profile.source))
        url = state.embedded.start()
        profile.base_url = profile.login_url = url
        profile.visitor_url = state.embedded.visitor_url
    client = RecordingClient(profile.request_timeout_s, profile.requests_per_second)
    harness = Harness(ChatApi(profile, client), profile.ids())
    harness.bring_agents_online()
    return harness


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Harness:
    """The target, logged in and on line; a failure here ends the run as broken (exit 3)."""
    state = request.config.stash[RUN]
    if state.harness is None:
        if state.setup_error:
            pytest.exit(state.setup_error, returncode=ExitCode.BROKEN)
        profile = state.profile
        assert profile is not None
        where = f"target {profile.name} at {profile.base_url or '(embedded)'}"
        try:
            state.harness = _start_harness(request.config)
        except TargetUnreachable as error:
            state.setup_error = f"{where} is unreachable: {error}"
        except (SetupError, RuntimeError) as error:
            state.setup_error = f"{where}: set-up failed: {REGISTRY.mask(str(error))}"
        if state.setup_error:
            pytest.exit(state.setup_error, returncode=ExitCode.BROKEN)
    assert state.harness is not None
    return state.harness


@pytest.fixture
def rule(request: pytest.FixtureRequest) -> RuleCheck:
    """The rule of the test's module (its `rule` marker), with the checks that judge it."""
    marker = request.node.get_closest_marker("rule")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} has no rule marker")
    return RuleCheck(marker.args[0])


@pytest.fixture(autouse=True)
def one_test_scope(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fresh request history per test; every chat the test opened ends, pass or fail."""
    if "target" not in request.fixturenames:
        yield
        return
    harness: Harness = request.getfixturevalue("target")
    harness.api.client.forget_history()
    try:
        yield
    finally:
        harness.clean_up()


def _attachment_type(content_type: str, body: str) -> Any:
    if "json" in content_type:
        return AttachmentType.JSON
    if "xml" in content_type:
        return AttachmentType.XML
    return AttachmentType.TEXT


def attach_exchange(exchange: Exchange) -> None:
    path = exchange.url.split("/api/account/", 1)[-1]
    status = exchange.status if exchange.status is not None else "no answer"
    with allure.step(f"{exchange.title}: {exchange.method} …/{path} → {status}"):
        if exchange.request_body:
            request_type = exchange.request_headers.get("Content-Type", "")
            allure.attach(
                exchange.request_body,
                name="request body (as sent)",
                attachment_type=_attachment_type(request_type, exchange.request_body),
            )
        allure.attach(
            exchange.response_body or exchange.error or "(empty)",
            name=f"response {status} (as received)",
            attachment_type=_attachment_type(exchange.content_type, exchange.response_body),
        )
        allure.attach(exchange.curl, name="curl", attachment_type=AttachmentType.TEXT)


def errors_within(error: BaseException) -> Iterator[BaseException]:
    """The error and, for a group (Hypothesis may group failures), every error inside it."""
    yield error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from errors_within(inner)


def failing_exchanges(error: BaseException | None) -> list[Exchange] | None:
    """The requests of the failing example, when the error carries them (see Harness.example)."""
    if error is None:
        return None
    carriers = (e for e in errors_within(error) if hasattr(e, "exchanges"))
    return next((e.exchanges for e in carriers), None)  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    # Attach the failing example's requests, else those of the last example run.
    state = item.config.stash[RUN]
    if state.harness is not None and "target" in getattr(item, "fixturenames", ()):
        error = outcome.excinfo[1] if outcome.excinfo else None
        exchanges = failing_exchanges(error) or state.harness.api.client.history
        item.stash[FAILING] = exchanges
        for exchange in exchanges[-40:]:
            attach_exchange(exchange)


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
            violations = _violations(error)
            status = "failed" if violations else "broken"
            message = REGISTRY.mask(
                "\n\n".join(str(v) for v in violations) or f"{type(error).__name__}: {error}"
            )
            example = REGISTRY.mask("\n".join(getattr(error, "__notes__", [])))
            if example:
                allure.attach(example, name="minimal failing example", attachment_type=AttachmentType.TEXT)
        history = item.stash.get(FAILING, [])[-6:]
        state.results.append(
            Result(
                nodeid=item.nodeid,
                outcome=status,
                rule=rule.id if rule else None,
                level=rule.level if rule else None,
                kind=rule.kind if rule else None,
                check=rule.check if rule else None,
                message=message,
                example=example,
                duration_s=round(report.duration, 3),
                exchanges=[e.as_dict() for e in history] if status == "failed" else [],
                finished=time.time(),
            )
        )


def _violations(error: BaseException) -> list[BaseException]:
    """Rule violations inside an error (Hypothesis may group several failures)."""
    return [e for e in errors_within(error) if isinstance(e, AssertionError)]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[RUN]
    profile = state.profile
    if state.harness is not None:
        with contextlib.suppress(Exception):
            state.harness.clean_up()
            state.harness.log_out()
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
