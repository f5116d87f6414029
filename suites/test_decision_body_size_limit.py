import json

import pytest

pytestmark = pytest.mark.rule("decision-body-size-limit")

# Discover mode searches the limit up to here (a target may take more: then nothing is declared).
SEARCH_UP_TO = 1 << 20


def padded_body(target, size):
    """A valid transfer body padded with JSON whitespace to exactly ``size`` bytes."""
    core = json.dumps({"transfer": {"agent": {"id": int(target.ids.agents["receiving"])}}}).encode()
    return core[:-1] + b" " * (size - len(core)) + b"}"


def test_body_over_the_limit_answers_the_decided_status(target, rule):
    """A body one byte over the limit answers 413; one at the limit is read as usual."""
    expected = target.decision(rule.id)
    limit = expected["max_bytes"]
    if rule.discovering:
        smallest = len(padded_body(target, 0))

        def probe(size):
            size = max(size, smallest)
            chat_id = target.open_chat()
            body = padded_body(target, size)
            return target.transfer_raw(chat_id, body, "application/json", f"transfer of {size} bytes")

        rule.observe_limit("max_bytes", target.largest_accepted(probe, limit, SEARCH_UP_TO))
        return
    chat_id = target.open_chat()
    over = target.transfer_raw(
        chat_id,
        padded_body(target, limit + 1),
        "application/json",
        f"transfer of {limit + 1} bytes",
    )
    rule.status(over, expected["status"])
    at_limit = target.transfer_raw(
        chat_id, padded_body(target, limit), "application/json", f"transfer of {limit} bytes"
    )
    rule.check(
        at_limit.status == 200,
        "200 at the limit",
        f"{at_limit.status}",
        at_limit,
    )
