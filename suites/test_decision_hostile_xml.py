import pytest

from strategies import HOSTILE_RULE, hostile_xml_bodies
from transfer_contract.catalogue import vectors
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-hostile-xml")

# The hostile vectors of specs/examples, by description.
KINDS = [vector.description for vector in vectors() if HOSTILE_RULE in vector.rules and not vector.valid]


@pytest.mark.parametrize("kind", KINDS)
def test_xml_with_a_dtd_is_refused_unexpanded_and_the_target_stays_healthy(target, rule, kind):
    """XML with a DTD or entities answers 400, nothing is expanded or read, and later calls work."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    (body,) = [b for b in hostile_xml_bodies(target.profile.skills["available"]) if b.reason.startswith(kind)]
    exchange = target.transfer_raw(chat_id, body.raw, body.content_type, f"transfer with {kind}")
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
