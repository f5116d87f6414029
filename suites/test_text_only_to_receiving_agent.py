import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import encodings, texts
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("text-only-to-receiving-agent")

# A tag of the run's own is appended to each text, so that a leak can be told from a visitor
# line that happens to share a short text; the text is compared whole all the same.
TAG = " tc{marker}"


@given(
    text=texts(reserve=len(TAG.format(marker=10**6))),
    via=st.sampled_from(["agent", "skill"]),
    encoding=encodings(),
    marker=st.integers(10**6, 10**7 - 1),
)
@example(text="she asked about invoices", via="agent", encoding="json", marker=1234567)
@example(text="she asked about invoices", via="skill", encoding="xml", marker=7654321)
def test_text_reaches_the_receiving_agent_whole_and_never_the_visitor(
    target, rule, text, via, encoding, marker
):
    """The agent who takes the chat reads the transfer text exactly as sent; nothing the visitor
    reads has it."""
    with target.example():
        note = text + TAG.format(marker=marker)
        body = (
            TransferBody(agent="receiving", text=note)
            if via == "agent"
            else TransferBody(skill="available", text=note)
        )
        chat_id = target.open_chat()
        exchange = target.transfer(chat_id, body, encoding)
        target.precondition(
            exchange.status == 200, f"the transfer was refused ({exchange.status})", "transfer-success-status"
        )
        rule.check(
            target.receiver_takes(chat_id),
            "the receiving agent can take the chat",
            "it could not",
            exchange,
        )
        view = target.api.agent_chat(target.receiving, chat_id)
        events = target.all_events(view, target.receiving) if view.status == 200 else []
        texts_seen = [e.get("text") for e in events]
        rule.check(
            note in texts_seen,
            f"an event whose text is exactly {note[-80:]!r}",
            f"event texts {[str(t)[-80:] for t in texts_seen]}",
            exchange,
            view,
        )
        tag = TAG.format(marker=marker).strip()
        leaked = [s for s in target.visitor_strings(chat_id) if tag in s]
        rule.check(
            not leaked,
            "the visitor never reads the text",
            # the shortest string holding it: the event's own text rather than a whole body
            f"the visitor reads it: {min(leaked, key=len)[:200]!r}" if leaked else "",
            exchange,
            *target.api.client.history[-4:],
        )
