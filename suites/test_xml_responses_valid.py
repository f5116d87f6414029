import pytest

from transfer_conformance.http.client import UndecodableResponse
from transfer_conformance.target_api.harness import decode
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("xml-responses-valid")


def assert_valid(rule, exchange, operation_id):
    rule.check(
        exchange.content_type.endswith("xml"),
        "an XML answer",
        f"Content-Type {exchange.content_type!r}",
        exchange,
    )
    try:
        decode(exchange, operation_id)
    except UndecodableResponse as error:
        rule.check(False, "a body the XSD accepts", error.reason, exchange)


def test_xml_answers_of_the_transfer_flow_validate(target, rule):
    """Every XML answer around a transfer validates against the XSD, errors included."""
    api, agent = target.api, target.transferring
    chat_id = target.open_chat()
    assert_valid(rule, api.available_skills(agent, chat_id, "xml"), "getAvailableSkills")
    assert_valid(rule, api.agent_chat(agent, chat_id, "xml"), "getAgentChat")
    assert_valid(rule, api.agent_events(agent, chat_id, "xml"), "getAgentChatEvents")
    assert_valid(rule, api.visitor_chat(chat_id, "xml"), "getVisitorChat")
    assert_valid(rule, api.visitor_events(chat_id, "xml"), "getVisitorChatEvents")
    refused = target.transfer(chat_id, TransferBody(skill="unavailable"), "xml", accept="xml")
    if refused.status is not None and refused.status >= 400:
        assert_valid(rule, refused, "transferChat")
