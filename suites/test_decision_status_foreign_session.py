import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check_status

pytestmark = pytest.mark.rule("decision-status-foreign-session")


def test_foreign_session_answers_the_decided_status(target):
    """Another agent's bearer on this agent's session answers 403 (or the profile's status)."""
    status = target.decision("decision-status-foreign-session")["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(skill="available"), bearer=target.receiving.bearer)
    check_status("decision-status-foreign-session", exchange, status)
