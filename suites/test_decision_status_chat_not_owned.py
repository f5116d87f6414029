import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check

pytestmark = pytest.mark.rule("decision-status-chat-not-owned")


def test_unknown_chat_answers_the_decided_status(target):
    """A transfer of, or a read of, a chat id that is not this session's answers 404."""
    status = target.decision("decision-status-chat-not-owned")["status"]
    unknown = "H000000000000000K00000000"
    moved = target.transfer(unknown, TransferBody(agent="receiving"))
    check(
        moved.status == status,
        "decision-status-chat-not-owned",
        f"{status}",
        f"{moved.status}",
        moved,
    )
    read = target.api.agent_chat(target.transferring, unknown)
    check(read.status == status, "decision-status-chat-not-owned", f"{status}", f"{read.status}", read)


def test_chat_ringing_for_someone_else_answers_the_decided_status(target):
    """A chat still ringing (not taken by this agent) cannot be transferred from this session."""
    status = target.decision("decision-status-chat-not-owned")["status"]
    chat_id = target.ring_new_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="receiving"))
    check(
        exchange.status == status,
        "decision-status-chat-not-owned",
        f"{status}",
        f"{exchange.status}",
        exchange,
    )
