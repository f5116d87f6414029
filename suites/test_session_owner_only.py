import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check_refused

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
    check_refused("session-owner-only", read)
    moved = target.transfer(chat_id, TransferBody(skill="available"), bearer=intruder)
    check_refused("session-owner-only", moved)
    target.check_unchanged("session-owner-only", chat_id, moved)
