import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import encodings, texts
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("agent-or-skill-required")


@given(text=st.none() | texts(), encoding=encodings())
@example(text=None, encoding="json")
@example(text="who takes this?", encoding="xml")
def test_body_without_agent_or_skill_is_refused_and_changes_nothing(target, rule, text, encoding):
    """A body naming neither an agent nor a skill is refused with a 4xx; the chat stays put."""
    with target.example():
        chat_id = target.open_chat()
        exchange = target.transfer(chat_id, TransferBody(text=text), encoding)
        rule.refused(exchange)
        target.check_unchanged(rule.id, chat_id, exchange)
