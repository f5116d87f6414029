import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-text-length")

# Discover mode searches the limit up to here: past it a text nears the body size limit, which
# decision-body-size-limit judges.
SEARCH_UP_TO = 60000


@pytest.mark.parametrize("encoding", ["json", "xml"])
def test_longest_text_is_accepted_and_one_more_is_refused(target, rule, encoding):
    """A text of the maximum length is accepted; one more character answers 400, changing nothing."""
    expected = target.decision(rule.id)
    longest = expected["max_chars"]
    if rule.discovering:

        def probe(size):
            chat_id = target.open_chat()
            return target.transfer(chat_id, TransferBody(agent="receiving", text="x" * size), encoding)

        rule.observe_limit("max_chars", target.largest_accepted(probe, longest, SEARCH_UP_TO))
        return
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
