import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import encodings, texts
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("transfer-success-status")

REACHABLE = st.one_of(
    st.builds(TransferBody, agent=st.just("receiving"), text=st.none() | texts()),
    st.builds(
        TransferBody,
        skill=st.sampled_from(["available", "second_available"]),
        text=st.none() | texts(),
    ),
)


@given(body=REACHABLE, encoding=encodings())
@example(body=TransferBody(agent="receiving"), encoding="json")
@example(body=TransferBody(skill="available"), encoding="xml")
def test_transfer_to_an_available_target_answers_200(target, rule, body, encoding):
    """A transfer to an available agent or skill answers 200."""
    with target.example():
        chat_id = target.open_chat()
        exchange = target.transfer(chat_id, body, encoding)
        rule.check(exchange.status == 200, "200", f"{exchange.status}", exchange)
