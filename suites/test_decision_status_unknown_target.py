import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-status-unknown-target")


@pytest.mark.parametrize(
    "body",
    [TransferBody(agent="unknown"), TransferBody(skill="unknown")],
    ids=["unknown-agent", "unknown-skill"],
)
def test_unknown_id_answers_the_decided_status(target, rule, body):
    """A transfer naming an id the account does not have answers 400 (or the profile's status)."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, body)
    rule.status(exchange, status)
