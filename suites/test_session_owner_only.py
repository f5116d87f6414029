import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check, is_client_error

pytestmark = pytest.mark.rule("session-owner-only")


def test_another_agents_bearer_cannot_use_the_session(target):
    """The receiving agent's bearer on the transferring agent's session reads and moves nothing."""
    chat_id = target.open_chat()
    intruder = target.receiving.bearer
    api = target.api
    url = api.agent_chat_url(target.transferring, chat_id)
    read = api.client.send(
        "GET",
        f"{url}?v=1&NC=true",
        title="another agent reads the chat",
        headers=api.headers(accept="json", bearer=intruder),
    )
    check(is_client_error(read.status), "session-owner-only", "a 4xx status", f"{read.status}", read)
    moved = target.transfer(chat_id, TransferBody(skill="available"), bearer=intruder)
    check(
        is_client_error(moved.status),
        "session-owner-only",
        "a 4xx status",
        f"{moved.status}",
        moved,
    )
    unchanged, how = target.still_with_first_agent(chat_id)
    check(unchanged, "session-owner-only", "nothing changes", how, moved)
