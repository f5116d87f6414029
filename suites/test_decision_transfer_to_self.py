import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-transfer-to-self")


def test_transfer_to_oneself_answers_the_decided_status(target, rule):
    """Naming the transferring agent's own id answers 400 and changes nothing."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="self"))
    rule.status(exchange, status)
    first = target.api.agent_chat(target.transferring, chat_id)
    rule.check(
        first.status == 200,
        "the agent still holds the chat",
        f"reading it answers {first.status}",
        exchange,
        first,
    )
