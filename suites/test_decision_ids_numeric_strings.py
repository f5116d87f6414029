import pytest
from hypothesis import given
from hypothesis import strategies as st

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-ids-numeric-strings")

BODIES = st.sampled_from(
    [
        TransferBody(agent="receiving"),
        TransferBody(skill="available"),
        TransferBody(skill="unavailable"),
        TransferBody(agent="unknown"),
    ]
)


def test_string_ids_are_accepted_or_refused_as_decided(target, rule):
    """A transfer to the receiving agent with its id as a string of digits answers 200 where the
    profile says string ids are accepted, an error (changing nothing) where it says they are not."""
    accepted = target.decision(rule.id)["accepted"]
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="receiving", ids_as_strings=True), "json")
    rule.observe("accepted", exchange.status == 200, exchange)
    if rule.discovering:
        return
    if accepted:
        rule.check(exchange.status == 200, "200 for a string id", f"{exchange.status}", exchange)
        return
    rule.refused(exchange)
    target.check_unchanged(rule.id, chat_id, exchange)


@given(body=BODIES)
def test_id_as_string_means_the_id_as_number(target, rule, body):
    """{"id": "6"} has the outcome of {"id": 6} (or is refused, changing nothing, where the
    profile says string ids are not accepted)."""
    accepted = target.decision(rule.id)["accepted"]
    as_strings = TransferBody(body.agent, body.skill, body.text, ids_as_strings=True)
    with target.example():
        if accepted:
            target.check_same_outcome(rule.id, (body, "json"), (as_strings, "json"))
            return
        chat_id = target.open_chat()
        exchange = target.transfer(chat_id, as_strings, "json")
        rule.refused(exchange)
        target.check_unchanged(rule.id, chat_id, exchange)
