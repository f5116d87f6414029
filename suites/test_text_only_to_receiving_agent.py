import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import TransferBody, texts
from transfer_conformance.flow import events_of
from transfer_conformance.verdict import check

pytestmark = pytest.mark.rule("text-only-to-receiving-agent")


@given(
    text=texts(max_size=200),
    via=st.sampled_from(["agent", "skill"]),
    encoding=st.sampled_from(["json", "xml"]),
    marker=st.integers(10**6, 10**7 - 1),
)
@example(text="she asked about invoices", via="agent", encoding="json", marker=1234567)
@example(text="she asked about invoices", via="skill", encoding="xml", marker=7654321)
def test_text_reaches_the_receiving_agent_and_never_the_visitor(target, text, via, encoding, marker):
    """The agent who takes the chat reads the transfer text; nothing the visitor reads has it."""
    with target.example():
        note = f"{text} tc{marker}"
        body = (
            TransferBody(agent="receiving", text=note)
            if via == "agent"
            else TransferBody(skill="available", text=note)
        )
        chat_id = target.open_chat()
        exchange = target.transfer(chat_id, body, encoding)
        if exchange.status != 200:
            pytest.fail(
                f"precondition: the transfer was refused ({exchange.status}); "
                "transfer-success-status judges that",
                pytrace=False,
            )
        token = f"tc{marker}"
        check(
            target.receiver_takes(chat_id),
            "text-only-to-receiving-agent",
            "the receiving agent can take the chat",
            "it could not",
            exchange,
        )
        view = target.api.agent_chat(target.receiving, chat_id)
        texts_seen = [str(e.get("text") or "") for e in events_of(view.json())] if view.status == 200 else []
        check(
            any(token in seen for seen in texts_seen),
            "text-only-to-receiving-agent",
            f"an event with the text {note[-60:]!r}",
            f"event texts {texts_seen}",
            exchange,
            view,
        )
        leaked = [s for s in target.visitor_strings(chat_id) if token in s]
        check(
            not leaked,
            "text-only-to-receiving-agent",
            "the visitor never reads the text",
            # the shortest string holding it: the event's own text rather than a whole body
            f"the visitor reads it: {min(leaked, key=len)[:200]!r}" if leaked else "",
            exchange,
            *target.api.client.history[-4:],
        )
