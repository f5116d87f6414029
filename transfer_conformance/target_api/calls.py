"""What every documented call shares: the query the docs' URLs carry, the media types, JSON
bodies, and the set-up error a refused set-up call raises."""

from __future__ import annotations

import json
from typing import Any

from transfer_conformance.errors import BrokenError
from transfer_conformance.http.client import Exchange

QUERY = "v=1&NC=true"
MEDIA = {"json": "application/json", "xml": "application/xml"}


class SetupError(BrokenError):
    """A set-up call failed: the environment, not the rule under test, is at fault."""


def with_query(url: str, query: str = QUERY) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def json_body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def account_url(base: str, account_id: str) -> str:
    return f"{base}/api/account/{account_id}"


def expect_status(exchange: Exchange, *statuses: int) -> Exchange:
    """The exchange, when it answered one of ``statuses``; else a SetupError saying what it got."""
    if exchange.status not in statuses:
        raise SetupError(
            f"set-up call {exchange.title!r} answered {exchange.status}, expected "
            f"{' or '.join(map(str, statuses))}: {exchange.summary()} "
            f"{exchange.response_body[:300]}"
        )
    return exchange
