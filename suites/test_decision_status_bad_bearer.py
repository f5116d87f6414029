import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check_status

pytestmark = pytest.mark.rule("decision-status-bad-bearer")


@pytest.mark.parametrize("bearer", ["", "tc-never-issued-0000000000000000"], ids=["missing", "unknown"])
def test_bad_bearer_answers_the_decided_status(target, bearer):
    """An agent call with no bearer or one never issued answers 401 (or the profile's status)."""
    status = target.decision("decision-status-bad-bearer")["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="receiving"), bearer=bearer)
    check_status("decision-status-bad-bearer", exchange, status)
