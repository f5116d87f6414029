import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import encodings, transfer_bodies
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("xml-json-equivalent")


XML = encodings().filter(lambda encoding: encoding.startswith("xml"))


@given(body=transfer_bodies(), xml=XML)
@example(body=TransferBody(agent="receiving", skill="available"), xml="xml")
@example(body=TransferBody(agent="receiving", skill="unavailable", text="a b and c"), xml="xml:pretty")
@example(body=TransferBody(skill="available", text="Two words"), xml="xml:declared")
def test_xml_and_json_of_one_body_have_the_same_outcome(target, rule, body, xml):
    """The XML (in any writer's layout) and the JSON encoding of one body give the same status
    and the same chat state."""
    with target.example():
        target.check_same_outcome(
            rule.id, (body, "json"), (body, xml), "as with JSON: ", f"with XML ({xml}): "
        )


@given(layouts=st.lists(XML, min_size=2, max_size=2, unique=True))
def test_every_xml_layout_of_one_body_has_the_same_outcome(target, rule, layouts):
    """Two XML layouts of one body (declaration, indentation, CDATA, references) mean the same."""
    body = TransferBody(agent="receiving", text="Over to you")
    with target.example():
        first, second = layouts
        target.check_same_outcome(
            rule.id, (body, first), (body, second), f"as with {first}: ", f"with {second}: "
        )
