"""What the report shows of a test: Allure labels and links from the rule catalogue, a dedented
description, and one step per request (request, response and curl), the failing example's own."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import allure
import pytest
from allure_commons.types import AttachmentType

from transfer_conformance import __version__
from transfer_conformance.http.client import Exchange
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.plugin.state import FAILING, state_of
from transfer_contract.catalogue import Rule, rules

EPIC = "Transfer a Chat conformance"
SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}


def rule_of(item: pytest.Item) -> Rule | None:
    marker = item.get_closest_marker("rule")
    return rules().get(marker.args[0]) if marker else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(state_of(config).options.rules)
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
        # `-m must` / `-m should` select by level
        item.add_marker(getattr(pytest.mark, rule.level.lower()))
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


def pytest_collection_finish(session: pytest.Session) -> None:
    """The tests the run will judge, after every selection (--rule, -m, -k): those left
    without a verdict at the end are broken."""
    state_of(session.config).collected = {item.nodeid: rule_of(item) for item in session.items}


def describe(item: pytest.Item, rule: Rule) -> str:
    """The Allure description: the docstring (dedented), the rule and its level."""
    doc = inspect.getdoc(getattr(item, "function", None)) or ""
    parts = [doc, "", f"Rule `{rule.id}` ({rule.level}, {rule.kind}): {rule.behaviour}"]
    if rule.reason:
        parts.append(f"Why we decided so: {rule.reason}")
    parts.append(f"Docs: {rule.doc_url} ({rule.doc_section})")
    return "\n".join(parts)


def _attachment_type(content_type: str) -> Any:
    if "json" in content_type:
        return AttachmentType.JSON
    if "xml" in content_type:
        return AttachmentType.XML
    return AttachmentType.TEXT


class OffendingRequest(AssertionError):
    """Raised inside the step of the request that shows a violation, so Allure marks it failed."""


def attach_exchange(exchange: Exchange, offending: bool = False) -> None:
    """One step per request: its body, the answer and the curl; failed when it is the request
    that shows the violation."""
    with contextlib.suppress(OffendingRequest):
        _exchange_step(exchange, offending)


def _exchange_step(exchange: Exchange, offending: bool) -> None:
    path = exchange.url.split("/api/account/", 1)[-1]
    status = exchange.status if exchange.status is not None else "no answer"
    with allure.step(f"{exchange.title}: {exchange.method} …/{path} → {status}"):
        if exchange.request_body:
            allure.attach(
                exchange.request_body,
                name="request body (as sent)",
                attachment_type=_attachment_type(exchange.request_content_type),
            )
        allure.attach(
            exchange.response_body or exchange.error or "(empty)",
            name=f"response {status} (as received)",
            attachment_type=_attachment_type(exchange.content_type),
        )
        allure.attach(exchange.curl, name="curl", attachment_type=AttachmentType.TEXT)
        if offending:
            raise OffendingRequest("this request shows the violation")


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


def title_of(item: pytest.Item) -> str:
    """The report's title of a test: the behaviour (its docstring's first line), and its
    parameters when it has some."""
    doc = inspect.getdoc(getattr(item, "function", None)) or ""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    behaviour = paragraph.rstrip(".") if paragraph else item.name
    callspec = getattr(item, "callspec", None)
    return f"{behaviour} [{callspec.id}]" if callspec is not None else behaviour


def offending_exchange(error: BaseException | None) -> Exchange | None:
    """The request a violation names first: the one that shows it."""
    for inner in errors_within(error) if error is not None else ():
        evidence = getattr(inner, "evidence", ())
        if evidence:
            return evidence[0]
    return None


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    allure.dynamic.title(title_of(item))
    outcome = yield
    # Attach the failing example's requests, else those of the last example run.
    state = state_of(item.config)
    if state.harness is not None and "target" in getattr(item, "fixturenames", ()):
        error = outcome.excinfo[1] if outcome.excinfo else None
        exchanges = failing_exchanges(error) or state.harness.api.client.history
        item.stash[FAILING] = exchanges
        offending = offending_exchange(error)
        for exchange in exchanges[-40:]:
            attach_exchange(exchange, offending=exchange is offending)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The report's environment: target, run profile, seed, strictness, requests at once, XML
    form, version."""
    alluredir = getattr(session.config.option, "allure_report_dir", None)
    if not alluredir:
        return
    state = state_of(session.config)
    lines = [
        f"target={state.profile.name}",
        f"target.url={state.profile.base_url or '(embedded)'}",
        f"run.profile={state.options.profile}",
        f"seed={state.seed}",
        f"strict={state.options.strict}",
        f"concurrency={state.profile.concurrency}",
        f"xml.transfer.form={state.xml_form}",
        f"suite.version={__version__}",
    ]
    Path(alluredir).mkdir(parents=True, exist_ok=True)
    (Path(alluredir) / "environment.properties").write_text(
        REGISTRY.mask("\n".join(lines)) + "\n", encoding="utf-8"
    )
