"""Failure messages that name the rule, say Expected / Actual, and show the request (curl)."""

from __future__ import annotations

from transfer_conformance.catalogue import rules
from transfer_conformance.client import Exchange


class RuleViolation(AssertionError):
    """The target broke a rule. Anything else a test raises is an environment problem."""

    def __init__(self, rule_id: str, message: str) -> None:
        super().__init__(message)
        self.rule_id = rule_id


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
        raise RuleViolation(rule_id, message(rule_id, expected, actual, exchanges))


def is_client_error(status: int | None) -> bool:
    return status is not None and 400 <= status < 500


def check_status(rule_id: str, exchange: Exchange, expected: int) -> None:
    """The exchange answered exactly ``expected``."""
    check(exchange.status == expected, rule_id, f"{expected}", f"{exchange.status}", exchange)


def check_refused(rule_id: str, exchange: Exchange) -> None:
    """The exchange was refused with a 4xx (which one is a decision, not judged here)."""
    check(is_client_error(exchange.status), rule_id, "a 4xx status", f"{exchange.status}", exchange)
