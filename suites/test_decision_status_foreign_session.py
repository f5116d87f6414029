import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-status-foreign-session")


def test_foreign_session_answers_the_decided_status(target, rule):
    """Another agent's bearer on this agent's session answers 403 (or the profile's status)."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(skill="available"), bearer=target.receiving.bearer)
    rule.status(exchange, status)
