import pytest

from strategies import HOSTILE_XML, TransferBody, hostile_xml

pytestmark = pytest.mark.rule("decision-hostile-xml")


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_xml_with_a_dtd_is_refused_unexpanded_and_the_target_stays_healthy(target, rule, kind):
    """XML with a DTD or entities answers 400, nothing is expanded or read, and later calls work."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    raw = hostile_xml(kind, target.profile.skills["available"])
    exchange = target.transfer_raw(chat_id, raw, "application/xml", f"transfer with {kind}")
    rule.status(exchange, status)
    leaked = "root:" in exchange.response_body or "aaaaaaaaaaaaaaaaaaaaaaaa" in exchange.response_body
    rule.check(
        not leaked,
        "no expanded or file content in the answer",
        exchange.response_body[:200],
        exchange,
    )
    healthy = target.transfer(chat_id, TransferBody(agent="receiving"))
    rule.check(
        healthy.status == 200,
        "a valid transfer afterwards answers 200",
        f"{healthy.status}",
        exchange,
        healthy,
    )
