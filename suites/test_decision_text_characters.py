import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from strategies import TransferBody, xml_texts

pytestmark = pytest.mark.rule("decision-text-characters")


@given(text=xml_texts(), encoding=st.sampled_from(["json", "xml"]))
def test_any_text_xml_can_carry_is_accepted(target, rule, text, encoding):
    """Letters of any script, XML-special characters, emoji and whitespace are accepted."""
    target.decision(rule.id)
    # Characters are judged here, not length: stay within the target's own text limit.
    assume(len(text) <= target.decision("decision-text-length")["max_chars"])
    with target.example():
        chat_id = target.open_chat()
        exchange = target.transfer(chat_id, TransferBody(agent="receiving", text=text), encoding)
        rule.check(
            exchange.status == 200,
            "200",
            f"{exchange.status}",
            exchange,
        )


@pytest.mark.parametrize(
    "character", ["\u0000", "\u0007", "\u001b", "\ufffe"], ids=["nul", "bell", "escape", "fffe"]
)
def test_character_xml_cannot_carry_is_refused(target, rule, character):
    """A control character XML 1.0 cannot carry answers 400 in JSON too."""
    status = target.decision(rule.id)["status"]
    chat_id = target.open_chat()
    raw = json.dumps(
        {
            "transfer": {
                "agent": {"id": int(target.ids.agents["receiving"])},
                "text": f"a{character}b",
            }
        }
    ).encode()
    exchange = target.transfer_raw(chat_id, raw, "application/json", f"transfer with U+{ord(character):04X}")
    rule.status(exchange, status)
