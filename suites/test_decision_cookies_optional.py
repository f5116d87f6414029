import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check

pytestmark = pytest.mark.rule("decision-cookies-optional")


def test_bearer_alone_carries_the_whole_flow(target):
    """A client keeping no cookies opens, transfers and hands over a chat with the bearer alone."""
    target.decision("decision-cookies-optional")
    client = target.api.client
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(skill="available", text="cookie-free"))
    jars = [len(session.cookies) for session in (client._plain, client._retrying)]
    check(jars == [0, 0], "decision-cookies-optional", "no cookie kept", f"cookies: {jars}", exchange)
    check(exchange.status == 200, "decision-cookies-optional", "200", f"{exchange.status}", exchange)
    check(
        target.receiver_takes(chat_id),
        "decision-cookies-optional",
        "the receiving agent takes it",
        "it could not",
        exchange,
    )
