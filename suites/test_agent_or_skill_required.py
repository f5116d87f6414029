import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import TransferBody, texts
from transfer_conformance.verdict import check, is_client_error

pytestmark = pytest.mark.rule("agent-or-skill-required")


@given(text=st.none() | texts(), encoding=st.sampled_from(["json", "xml"]))
@example(text=None, encoding="json")
@example(text="who takes this?", encoding="xml")
def test_body_without_agent_or_skill_is_refused_and_changes_nothing(target, text, encoding):
    """A body naming neither an agent nor a skill is refused with a 4xx; the chat stays put."""
    with target.example():
        chat_id = target.open_chat()
        exchange = target.transfer(chat_id, TransferBody(text=text), encoding)
        check(
            is_client_error(exchange.status),
            "agent-or-skill-required",
            "a 4xx status",
            f"{exchange.status}",
            exchange,
        )
        unchanged, how = target.still_with_first_agent(chat_id)
        check(unchanged, "agent-or-skill-required", "nothing changes", how, exchange)
