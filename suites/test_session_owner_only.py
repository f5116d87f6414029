import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("session-owner-only")


def test_another_agents_bearer_cannot_use_the_session(target, rule):
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
    rule.refused(read)
    moved = target.transfer(chat_id, TransferBody(skill="available"), bearer=intruder)
    rule.refused(moved)
    target.check_unchanged(rule.id, chat_id, moved)
