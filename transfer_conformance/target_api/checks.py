"""Failure messages that name the rule, say Expected / Actual, and show the request (curl)."""

from __future__ import annotations

from typing import Any

from transfer_conformance.http.client import Exchange
from transfer_conformance.http.har import body_shape
from transfer_contract.catalogue import rules


class RuleViolation(AssertionError):
    """The target broke a rule. Anything else a test raises is an environment problem."""

    def __init__(self, rule_id: str, message: str, exchanges: tuple[Exchange, ...] = ()) -> None:
        super().__init__(message)
        self.rule_id = rule_id
        # the requests that show the violation, the offending one first
        self.evidence = exchanges


def message(rule_id: str, expected: str, actual: str, exchanges: tuple[Exchange, ...]) -> str:
    rule = rules()[rule_id]
    lines = [
        f"[{rule_id}] ({rule.level}) {rule.behaviour}",
        f"Expected: {expected}",
        f"Actual: {actual}",
    ]
    for exchange in exchanges:
        lines.append(f"Request ({exchange.title}): {exchange.curl}")
        lines.append(f"Response: {exchange.status} {exchange.response_body[:400]}")
    return "\n".join(lines)


def check(condition: bool, rule_id: str, expected: str, actual: str, *exchanges: Exchange) -> None:
    """Raise a RuleViolation for ``rule_id`` unless ``condition`` holds."""
    if not condition:
        raise RuleViolation(rule_id, message(rule_id, expected, actual, exchanges), exchanges)


def is_error(status: int | None) -> bool:
    """An error answer: what the pages call "an error" names no status, so any 4xx or 5xx here;
    a 5xx the profile does not declare is judged a server error all the same (plugin.results)."""
    return status is not None and status >= 400


def check_status(rule_id: str, exchange: Exchange, expected: int) -> None:
    """The exchange answered exactly ``expected``."""
    check(exchange.status == expected, rule_id, f"{expected}", f"{exchange.status}", exchange)


def check_refused(rule_id: str, exchange: Exchange) -> None:
    """The exchange was answered with an error status (which one is a decision, not judged here)."""
    check(
        is_error(exchange.status),
        rule_id,
        "an error status (which one the pages do not say)",
        f"{exchange.status}",
        exchange,
    )


class RuleCheck:
    """A suite module's rule, named once by its marker: the checks that judge it.

    Suites get it as the ``rule`` fixture: ``rule.check(...)``, ``rule.status(...)``,
    ``rule.refused(...)``; ``rule.id`` where a harness method takes the rule.
    """

    def __init__(self, rule_id: str, observations: list[dict[str, Any]] | None = None) -> None:
        if rule_id not in rules():
            raise KeyError(f"no rule {rule_id!r} in specs/rules.yaml")
        self.id = rule_id
        # Set in discover mode: decisions' checks record what the target did instead of judging.
        self.observations = observations

    def __repr__(self) -> str:
        return f"<rule {self.id}>"

    def check(self, condition: bool, expected: str, actual: str, *exchanges: Exchange) -> None:
        check(condition, self.id, expected, actual, *exchanges)

    @property
    def discovering(self) -> bool:
        """Whether this run learns the target's decisions (discover) instead of judging them."""
        return self.observations is not None

    def status(self, exchange: Exchange, expected: int, key: str = "status") -> None:
        """The exchange answered ``expected`` (the decision's ``key``); in discover mode, note
        what it answered instead."""
        if self.discovering:
            self.observe(key, exchange.status, exchange)
            return
        check_status(self.id, exchange, expected)

    def observe(self, key: str, value: Any, exchange: Exchange) -> None:
        """Record, in discover mode only, that the target's ``key`` of this decision is ``value``."""
        if self.observations is not None:
            self.observations.append(
                {
                    "rule": self.id,
                    "key": key,
                    "value": value,
                    "curl": exchange.curl,
                    "status": exchange.status,
                    "title": exchange.title,
                    "answer": body_shape(exchange.content, exchange.content_type),
                }
            )

    def observe_limit(self, key: str, found: tuple[int | None, Exchange | None]) -> None:
        """Record a limit Harness.largest_accepted found, as ``key``, and the status of the
        refusal just above it, as ``status`` (discover mode; nothing when none was found)."""
        size, refusal = found
        if size is not None and refusal is not None:
            self.observe(key, size, refusal)
            self.observe("status", refusal.status, refusal)

    def refused(self, exchange: Exchange) -> None:
        check_refused(self.id, exchange)
