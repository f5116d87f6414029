import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-first-agent-after-transfer")


def test_first_agent_calls_on_a_transferred_chat_answer_the_decided_status(target, rule):
    """After a transfer the first agent's read, line and transfer on the chat answer 404 (the read
    200 where the profile says reads = "allowed")."""
    decided = target.decision(rule.id)
    status = decided["status"]
    chat_id = target.open_chat()
    moved = target.transfer(chat_id, TransferBody(agent="receiving"))
    target.precondition(
        moved.status == 200, f"the transfer was refused ({moved.status})", "transfer-success-status"
    )
    api, first = target.api, target.transferring
    read = api.agent_chat(first, chat_id)
    if rule.discovering:
        rule.observe("reads", "allowed" if read.status == 200 else "refused", read)
        if read.status != 200:
            rule.status(read, status)
    elif decided.get("reads") == "allowed":
        rule.check(read.status == 200, "200: the former agent may read the chat", f"{read.status}", read)
    else:
        rule.status(read, status)
    for exchange in (
        api.send_line(first, chat_id, "still here?"),
        target.transfer(chat_id, TransferBody(skill="available")),
    ):
        rule.status(exchange, status)
