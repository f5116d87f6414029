import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-status-unavailable-skill")


@pytest.mark.parametrize("encoding", ["json", "xml"])
def test_unavailable_skill_answers_the_decided_status(target, rule, encoding):
    """A transfer to a known skill with no available agent answers 400 (or the profile's status)."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(skill="unavailable"), encoding)
    rule.status(exchange, status)
