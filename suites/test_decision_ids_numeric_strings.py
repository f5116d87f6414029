import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import TransferBody
from transfer_conformance.verdict import check_refused

pytestmark = pytest.mark.rule("decision-ids-numeric-strings")

BODIES = st.sampled_from(
    [
        TransferBody(agent="receiving"),
        TransferBody(skill="available"),
        TransferBody(skill="unavailable"),
        TransferBody(agent="unknown"),
    ]
)


@given(body=BODIES)
def test_id_as_string_means_the_id_as_number(target, body):
    """{"id": "6"} has the outcome of {"id": 6} (or is refused, changing nothing, where the
    profile says string ids are not accepted)."""
    accepted = target.decision("decision-ids-numeric-strings")["accepted"]
    as_strings = TransferBody(body.agent, body.skill, body.text, ids_as_strings=True)
    with target.example():
        if accepted:
            target.check_same_outcome("decision-ids-numeric-strings", (body, "json"), (as_strings, "json"))
            return
        chat_id = target.open_chat()
        exchange = target.transfer(chat_id, as_strings, "json")
        check_refused("decision-ids-numeric-strings", exchange)
        target.check_unchanged("decision-ids-numeric-strings", chat_id, exchange)
