import pytest

from transfer_contract.transfer_body import TransferBody, render

pytestmark = pytest.mark.rule("decision-path-suffix")


@pytest.mark.parametrize(
    ("suffix", "accept", "expected"), [(".json", "xml", "json"), (".xml", "json", "xml")]
)
def test_suffix_picks_the_format_over_accept(target, rule, suffix, accept, expected):
    """X.json answers JSON and X.xml answers XML, whatever Accept says."""
    target.decision(rule.id)
    chat_id = target.open_chat()
    exchange = target.api.available_skills(target.transferring, chat_id, accept, suffix)
    rule.check(
        exchange.status == 200 and exchange.content_type.endswith(expected),
        f"200 in {expected}",
        f"{exchange.status} {exchange.content_type}",
        exchange,
    )


def test_transfer_json_suffix_routes_to_transfer(target, rule):
    """POST transfer.json works like POST transfer (the form public clients use)."""
    target.decision(rule.id)
    chat_id = target.open_chat()
    raw, content_type = render(TransferBody(agent="receiving"), target.ids, "json")
    url = f"{target.api.agent_chat_url(target.transferring, chat_id)}/transfer.json?v=1&NC=true"
    exchange = target.api.client.send(
        "POST",
        url,
        title="transfer through transfer.json",
        headers=target.api.headers(target.transferring, "json", content_type),
        body=raw,
    )
    rule.check(exchange.status == 200, "200", f"{exchange.status}", exchange)
