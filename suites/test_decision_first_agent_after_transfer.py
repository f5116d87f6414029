import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-first-agent-after-transfer")


def test_first_agent_calls_on_a_transferred_chat_answer_the_decided_status(target, rule):
    """After a transfer the first agent's read, line and transfer on the chat answer 404."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    moved = target.transfer(chat_id, TransferBody(agent="receiving"))
    target.precondition(
        moved.status == 200, f"the transfer was refused ({moved.status})", "transfer-success-status"
    )
    api, first = target.api, target.transferring
    for exchange in (
        api.agent_chat(first, chat_id),
        api.send_line(first, chat_id, "still here?"),
        target.transfer(chat_id, TransferBody(skill="available")),
    ):
        rule.status(exchange, status)
