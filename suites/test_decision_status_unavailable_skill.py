import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check_status

pytestmark = pytest.mark.rule("decision-status-unavailable-skill")


@pytest.mark.parametrize("encoding", ["json", "xml"])
def test_unavailable_skill_answers_the_decided_status(target, encoding):
    """A transfer to a known skill with no available agent answers 400 (or the profile's status)."""
    status = target.decision("decision-status-unavailable-skill")["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(skill="unavailable"), encoding)
    check_status("decision-status-unavailable-skill", exchange, status)
