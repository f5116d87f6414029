import pytest

from strategies import TransferBody
from transfer_conformance.verdict import check

pytestmark = pytest.mark.rule("decision-text-length")


@pytest.mark.parametrize("encoding", ["json", "xml"])
def test_longest_text_is_accepted_and_one_more_is_refused(target, encoding):
    """A text of the maximum length is accepted; one more character answers 400, changing nothing."""
    expected = target.decision("decision-text-length")
    longest = expected["max_chars"]
    chat_id = target.open_chat()
    accepted = target.transfer(chat_id, TransferBody(agent="receiving", text="x" * longest), encoding)
    check(
        accepted.status == 200,
        "decision-text-length",
        f"200 for {longest} characters",
        f"{accepted.status}",
        accepted,
    )
    chat_id = target.open_chat()
    refused = target.transfer(chat_id, TransferBody(agent="receiving", text="x" * (longest + 1)), encoding)
    check(
        refused.status == expected["status"],
        "decision-text-length",
        f"{expected['status']} for {longest + 1} characters",
        f"{refused.status}",
        refused,
    )
    target.check_unchanged("decision-text-length", chat_id, refused)
