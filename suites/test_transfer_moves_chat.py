import pytest

from transfer_conformance.target_api.checks import is_error
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("transfer-moves-chat")


@pytest.mark.parametrize(
    "body",
    [TransferBody(agent="receiving"), TransferBody(skill="available")],
    ids=["to-agent", "to-skill"],
)
def test_transferred_chat_leaves_the_first_agent_and_rings_for_the_target(target, rule, body):
    """After a transfer the first agent cannot transfer the chat again; the target can take it."""
    chat_id = target.open_chat()
    first = target.transfer(chat_id, body)
    target.precondition(
        first.status == 200, f"the transfer was refused ({first.status})", "transfer-success-status"
    )
    again = target.transfer(chat_id, TransferBody(agent="receiving"))
    rule.check(
        is_error(again.status),
        "the first agent's second transfer is refused (an error status)",
        f"{again.status}",
        first,
        again,
    )
    rule.check(
        target.receiver_takes(chat_id),
        "the receiving agent can take the chat",
        "it is not ringing for them",
        first,
    )
