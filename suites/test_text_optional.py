import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import encodings, texts, transfer_bodies
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("text-optional")

WITH_TEXT = transfer_bodies(
    agents=st.sampled_from([None, "receiving", "unknown"]),
    skills=st.sampled_from([None, "available", "unavailable"]),
    text=texts(),
)


@given(body=WITH_TEXT, encoding=encodings())
@example(body=TransferBody(agent="receiving", text="please help"), encoding="json")
@example(body=TransferBody(skill="available", text="please help"), encoding="xml")
def test_body_without_text_has_the_same_outcome(target, rule, body, encoding):
    """Leaving the text out changes nothing about the outcome of a transfer."""
    with target.example():
        target.check_same_outcome(
            rule.id, (body, encoding), (body.without_text(), encoding), "as with the text: "
        )
