import pytest

from strategies import TransferBody

pytestmark = pytest.mark.rule("decision-text-length")


@pytest.mark.parametrize("encoding", ["json", "xml"])
def test_longest_text_is_accepted_and_one_more_is_refused(target, rule, encoding):
    """A text of the maximum length is accepted; one more character answers 400, changing nothing."""
    expected = target.decision(rule.id)
    longest = expected["max_chars"]
    chat_id = target.open_chat()
    accepted = target.transfer(chat_id, TransferBody(agent="receiving", text="x" * longest), encoding)
    rule.check(
        accepted.status == 200,
        f"200 for {longest} characters",
        f"{accepted.status}",
        accepted,
    )
    chat_id = target.open_chat()
    refused = target.transfer(chat_id, TransferBody(agent="receiving", text="x" * (longest + 1)), encoding)
    rule.status(refused, expected["status"])
    target.check_unchanged(rule.id, chat_id, refused)
