import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import TransferBody

pytestmark = pytest.mark.rule("decision-ids-numeric-strings")


@given(
    body=st.sampled_from(
        [
            TransferBody(agent="receiving"),
            TransferBody(skill="available"),
            TransferBody(skill="unavailable"),
            TransferBody(agent="unknown"),
        ]
    )
)
def test_id_as_string_means_the_id_as_number(target, body):
    """{"id": "6"} has the outcome of {"id": 6}."""
    target.decision("decision-ids-numeric-strings")
    with target.example():
        as_strings = TransferBody(body.agent, body.skill, body.text, ids_as_strings=True)
        target.check_same_outcome("decision-ids-numeric-strings", (body, "json"), (as_strings, "json"))
