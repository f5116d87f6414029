import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("bearer-required")

BAD_BEARERS = {"no Authorization": "", "a bearer never issued": "tc-never-issued-0000000000000000"}


@pytest.mark.parametrize("bearer", list(BAD_BEARERS.values()), ids=list(BAD_BEARERS))
def test_transfer_without_a_valid_bearer_is_refused(target, rule, bearer):
    """A transfer without a bearer, or with one the target never issued, is a 4xx; nothing moves."""
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="receiving"), bearer=bearer)
    rule.refused(exchange)
    target.check_unchanged(rule.id, chat_id, exchange)


@pytest.mark.parametrize("bearer", list(BAD_BEARERS.values()), ids=list(BAD_BEARERS))
def test_skills_list_without_a_valid_bearer_is_refused(target, rule, bearer):
    """Retrieve Available Skills without a valid bearer is a 4xx."""
    chat_id = target.open_chat()
    headers = target.api.headers(accept="json", bearer=bearer)
    url = f"{target.api.agent_chat_url(target.transferring, chat_id)}/transfer?v=1&NC=true"
    exchange = target.api.client.send(
        "GET", url, title="retrieve available skills without a valid bearer", headers=headers
    )
    rule.refused(exchange)
