import pytest
from hypothesis import example, given

from strategies import TransferBody, transfer_bodies
from transfer_conformance.verdict import check

pytestmark = pytest.mark.rule("xml-json-equivalent")


@given(body=transfer_bodies())
@example(body=TransferBody(agent="receiving", skill="available"))
@example(body=TransferBody(agent="receiving", skill="unavailable", text="a < b & c"))
@example(body=TransferBody(skill="available", text="line\r\nbreak"))
def test_xml_and_json_of_one_body_have_the_same_outcome(target, body):
    """The XML and the JSON encoding of one body give the same status and the same chat state."""
    with target.example():
        as_json, json_exchange = target.try_transfer(body, "json")
        as_xml, xml_exchange = target.try_transfer(body, "xml")
        check(
            as_json == as_xml,
            "xml-json-equivalent",
            f"as with JSON: {as_json.describe()}",
            f"with XML: {as_xml.describe()}",
            json_exchange,
            xml_exchange,
        )
