import json
from urllib.parse import parse_qs

import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-error-body")

CASES = {
    "unavailable skill": (TransferBody(skill="unavailable"), None),
    "neither": (TransferBody(text="x"), None),
    "bad bearer": (TransferBody(agent="receiving"), "tc-never-issued-0000000000000000"),
}


def envelope_message(exchange):
    try:
        envelope = json.loads(exchange.content)["error"]
    except (ValueError, KeyError, TypeError):
        return None
    return envelope.get("message") if isinstance(envelope, dict) else None


@pytest.mark.parametrize("case", list(CASES))
def test_refusal_carries_the_error_envelope(target, rule, case):
    """A 4xx answer has the body {"error": {"message": ...}} in JSON; a 401 may carry the
    form-encoded oauth_problem answer instead, where the profile says so."""
    expected = target.decision(rule.id)
    body, bearer = CASES[case]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, body, bearer=bearer)
    target.precondition(400 <= (exchange.status or 0) < 500, f"expected a refusal, got {exchange.status}")
    fields = parse_qs(exchange.content.decode("utf-8", "replace"))
    if exchange.status == 401:
        rule.observe("unauthorized_body", "form" if "oauth_problem" in fields else "envelope", exchange)
    if exchange.status == 401 and expected.get("unauthorized_body") == "form":
        rule.check(
            "oauth_problem" in fields,
            "a form-encoded body with oauth_problem",
            f"{exchange.content_type or 'no type'}: {exchange.response_body[:200]!r}",
            exchange,
        )
        return
    rule.check(
        isinstance(envelope_message(exchange), str),
        '{"error": {"message": "..."}}',
        f"{exchange.content_type or 'no type'}: {exchange.response_body[:200]!r}",
        exchange,
    )
