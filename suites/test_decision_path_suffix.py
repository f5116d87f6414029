import pytest

from strategies import TransferBody, render
from transfer_conformance.verdict import check

pytestmark = pytest.mark.rule("decision-path-suffix")


@pytest.mark.parametrize(
    ("suffix", "accept", "expected"), [(".json", "xml", "json"), (".xml", "json", "xml")]
)
def test_suffix_picks_the_format_over_accept(target, suffix, accept, expected):
    """X.json answers JSON and X.xml answers XML, whatever Accept says."""
    target.decision("decision-path-suffix")
    chat_id = target.open_chat()
    exchange = target.api.available_skills(target.transferring, chat_id, accept, suffix)
    check(
        exchange.status == 200 and exchange.content_type.endswith(expected),
        "decision-path-suffix",
        f"200 in {expected}",
        f"{exchange.status} {exchange.content_type}",
        exchange,
    )


def test_transfer_json_suffix_routes_to_transfer(target):
    """POST transfer.json works like POST transfer (the form public clients use)."""
    target.decision("decision-path-suffix")
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
    check(exchange.status == 200, "decision-path-suffix", "200", f"{exchange.status}", exchange)
