import json

import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check

pytestmark = pytest.mark.rule("decision-error-body")

CASES = {
    "unavailable skill": (TransferBody(skill="unavailable"), None),
    "neither": (TransferBody(text="x"), None),
    "bad bearer": (TransferBody(agent="receiving"), "tc-never-issued-0000000000000000"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refusal_carries_the_error_envelope(target, case):
    """A 4xx answer has the body {"error": {"message": ...}} in JSON."""
    target.decision("decision-error-body")
    body, bearer = CASES[case]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, body, bearer=bearer)
    if not 400 <= (exchange.status or 0) < 500:
        pytest.fail(f"precondition: expected a refusal, got {exchange.status}", pytrace=False)
    try:
        envelope = json.loads(exchange.content)["error"]
        ok = isinstance(envelope, dict) and isinstance(envelope.get("message"), str)
    except (ValueError, KeyError, TypeError):
        ok = False
    check(
        ok,
        "decision-error-body",
        '{"error": {"message": "..."}}',
        f"{exchange.content_type or 'no type'}: {exchange.response_body[:200]!r}",
        exchange,
    )
