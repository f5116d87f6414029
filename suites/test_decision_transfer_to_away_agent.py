import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-transfer-to-away-agent")


def test_transfer_to_an_away_agent_answers_the_decided_status(target, rule):
    """An agent whose availability is Away cannot receive a transfer: 400, nothing changes."""
    status = target.decision(rule.id)["status"]
    if "away" not in target.agents:
        pytest.skip("the profile names no [agents.away]")
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="away"))
    rule.status(exchange, status)
    target.check_unchanged(rule.id, chat_id, exchange)
