import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check_status

pytestmark = pytest.mark.rule("decision-status-chat-not-owned")


def test_unknown_chat_answers_the_decided_status(target):
    """A transfer of, or a read of, a chat id that is not this session's answers 404."""
    status = target.decision("decision-status-chat-not-owned")["status"]
    unknown = "H000000000000000K00000000"
    moved = target.transfer(unknown, TransferBody(agent="receiving"))
    check_status("decision-status-chat-not-owned", moved, status)
    read = target.api.agent_chat(target.transferring, unknown)
    check_status("decision-status-chat-not-owned", read, status)


def test_chat_ringing_for_someone_else_answers_the_decided_status(target):
    """A chat still ringing (not taken by this agent) cannot be transferred from this session."""
    status = target.decision("decision-status-chat-not-owned")["status"]
    chat_id = target.ring_new_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="receiving"))
    check_status("decision-status-chat-not-owned", exchange, status)
