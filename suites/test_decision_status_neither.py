import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-status-neither")


@pytest.mark.parametrize("encoding", ["json", "xml"])
def test_body_naming_neither_answers_the_decided_status(target, rule, encoding):
    """A body naming neither agent nor skill answers 400 (or the profile's status)."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(text="nobody named"), encoding)
    rule.status(exchange, status)
