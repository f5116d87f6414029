import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-status-chat-not-owned")


def test_unknown_chat_answers_the_decided_status(target, rule):
    """A transfer of, or a read of, a chat id that is not this session's answers 404."""
    status = target.decision(rule.id)["status"]
    unknown = "H000000000000000K00000000"
    moved = target.transfer(unknown, TransferBody(agent="receiving"))
    rule.status(moved, status)
    read = target.api.agent_chat(target.transferring, unknown)
    rule.status(read, status)


def test_chat_ringing_for_someone_else_answers_the_decided_status(target, rule):
    """A chat still ringing (not taken by this agent) cannot be transferred from this session."""
    status = target.decision(rule.id)["status"]
    chat_id = target.ring_new_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="receiving"))
    rule.status(exchange, status)
