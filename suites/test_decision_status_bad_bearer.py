import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-status-bad-bearer")


@pytest.mark.parametrize("bearer", ["", "tc-never-issued-0000000000000000"], ids=["missing", "unknown"])
def test_bad_bearer_answers_the_decided_status(target, rule, bearer):
    """An agent call with no bearer or one never issued answers 401 (or the profile's status)."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="receiving"), bearer=bearer)
    rule.status(exchange, status)
