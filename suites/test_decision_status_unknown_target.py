import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check_status

pytestmark = pytest.mark.rule("decision-status-unknown-target")


@pytest.mark.parametrize(
    "body",
    [TransferBody(agent="unknown"), TransferBody(skill="unknown")],
    ids=["unknown-agent", "unknown-skill"],
)
def test_unknown_id_answers_the_decided_status(target, body):
    """A transfer naming an id the account does not have answers 400 (or the profile's status)."""
    status = target.decision("decision-status-unknown-target")["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, body)
    check_status("decision-status-unknown-target", exchange, status)
