import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check_status

pytestmark = pytest.mark.rule("decision-transfer-to-away-agent")


def test_transfer_to_an_away_agent_answers_the_decided_status(target):
    """An agent whose availability is Away cannot receive a transfer: 400, nothing changes."""
    status = target.decision("decision-transfer-to-away-agent")["status"]
    if "away" not in target.agents:
        pytest.skip("the profile names no [agents.away]")
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="away"))
    check_status("decision-transfer-to-away-agent", exchange, status)
    target.check_unchanged("decision-transfer-to-away-agent", chat_id, exchange)
