import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from strategies import xml_texts
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-text-characters")

ANY_XML = "any-xml"
# One text per class of character a free-text note may hold beyond [A-Za-z0-9].
CLASSES = {
    "accented Latin": "Grüße, señor: façade, naïve",
    "CJK": "转接给专家 日本語のテキスト",
    "right-to-left": "مرحبا بالعالم שלום",
    "emoji": "Customer 😀 wants a refund 👍🏽",
    "XML-special": "<b>&amp; \"double\" 'single' & < > ]]>",
    "whitespace": "line one\nline two\ttabbed\r\nend",
    "combining marks": "e\u0301 a\u0308 n\u0303",
    "punctuation": "~!@#$%^*()_+{}|:?[];,./`\\",
}


def judge(target, rule, text, encoding, accepted):
    """Accepted (200) where the profile says any XML character is; otherwise 200 or an error
    that changes nothing. The exchange, for the caller's record."""
    chat_id = target.open_chat()
    exchange = target.transfer(chat_id, TransferBody(agent="receiving", text=text), encoding)
    if rule.discovering:
        return exchange
    if accepted == ANY_XML or exchange.status == 200:
        rule.check(exchange.status == 200, "200", f"{exchange.status}", exchange)
    else:
        rule.refused(exchange)
        target.check_unchanged(rule.id, chat_id, exchange)
    return exchange


# Long: sixteen transfers one after another (lanes start it first, not last).
@pytest.mark.long
def test_each_class_of_character_is_accepted(target, rule):
    """A text of each class (accented, CJK, right-to-left, emoji, XML-special, whitespace,
    combining marks, punctuation) is accepted in JSON and in XML."""
    accepted = target.decision(rule.id)["accepted"]
    refused = []
    for text in CLASSES.values():
        for encoding in ("json", "xml"):
            exchange = judge(target, rule, text, encoding, accepted)
            if exchange.status != 200:
                refused.append(exchange)
            target.clean_up()
    rule.observe("accepted", "documented" if refused else ANY_XML, refused[0] if refused else exchange)


@given(text=xml_texts(), encoding=st.sampled_from(["json", "xml"]))
def test_any_text_xml_can_carry_is_accepted(target, rule, text, encoding):
    """Letters of any script, XML-special characters, emoji and whitespace are accepted."""
    accepted = target.decision(rule.id)["accepted"]
    # Characters are judged here, not length: stay within the target's own text limit.
    assume(len(text) <= target.decision("decision-text-length")["max_chars"])
    with target.example():
        judge(target, rule, text, encoding, accepted)


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
