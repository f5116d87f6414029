import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-status-ended-chat")


def test_ended_chat_answers_the_decided_status(target, rule):
    """A transfer of a chat the visitor ended answers 409 and the chat stays ended."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    target.api.expect_status(target.api.visitor_end(chat_id), 200, 201)
    exchange = target.transfer(chat_id, TransferBody(agent="receiving"))
    rule.status(exchange, status)
    state = target.visitor_state(chat_id)
    rule.check(
        state in (None, "ended"),
        "the chat stays ended",
        f"{state}",
        exchange,
        target.api.client.history[-1],  # the visitor's read
    )
