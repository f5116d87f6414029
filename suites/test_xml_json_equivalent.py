import pytest
from hypothesis import example, given

from strategies import TransferBody, transfer_bodies

pytestmark = pytest.mark.rule("xml-json-equivalent")


@given(body=transfer_bodies())
@example(body=TransferBody(agent="receiving", skill="available"))
@example(body=TransferBody(agent="receiving", skill="unavailable", text="a < b & c"))
@example(body=TransferBody(skill="available", text="line\r\nbreak"))
def test_xml_and_json_of_one_body_have_the_same_outcome(target, body):
    """The XML and the JSON encoding of one body give the same status and the same chat state."""
    with target.example():
        target.check_same_outcome(
            "xml-json-equivalent", (body, "json"), (body, "xml"), "as with JSON: ", "with XML: "
        )
