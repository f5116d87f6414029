import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-cookies-optional")


def test_bearer_alone_carries_the_whole_flow(target, rule):
    """A client keeping no cookies opens, transfers and hands over a chat with the bearer alone."""
    target.decision(rule.id)
    client = target.api.client
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(skill="available", text="cookie-free"))
    jars = [len(session.cookies) for session in (client._plain, client._retrying)]
    rule.check(jars == [0, 0], "no cookie kept", f"cookies: {jars}", exchange)
    rule.check(exchange.status == 200, "200", f"{exchange.status}", exchange)
    rule.check(
        target.receiver_takes(chat_id),
        "the receiving agent takes it",
        "it could not",
        exchange,
    )
