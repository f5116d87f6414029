import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check, check_status

pytestmark = pytest.mark.rule("decision-transfer-to-self")


def test_transfer_to_oneself_answers_the_decided_status(target):
    """Naming the transferring agent's own id answers 400 and changes nothing."""
    status = target.decision("decision-transfer-to-self")["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="self"))
    check_status("decision-transfer-to-self", exchange, status)
    first = target.api.agent_chat(target.transferring, chat_id)
    check(
        first.status == 200,
        "decision-transfer-to-self",
        "the agent still holds the chat",
        f"reading it answers {first.status}",
        exchange,
        first,
    )
