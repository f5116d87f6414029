import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies import TransferBody
from transfer_conformance.verdict import check

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
        as_number, numeric = target.try_transfer(body)
        as_string, stringly = target.try_transfer(TransferBody(body.agent, body.skill, body.text, True))
        check(
            as_number == as_string,
            "decision-ids-numeric-strings",
            as_number.describe(),
            as_string.describe(),
            numeric,
            stringly,
        )
