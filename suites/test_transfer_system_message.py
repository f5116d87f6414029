import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("transfer-system-message")


@pytest.mark.parametrize(
    ("body", "message"),
    [(TransferBody(agent="receiving"), 13), (TransferBody(skill="available"), 15)],
    ids=["agent-13", "skill-15"],
)
@pytest.mark.parametrize("encoding", ["json", "xml"])
def test_transfer_is_announced_with_its_system_message(target, rule, body, message, encoding):
    """A transfer to an agent adds system message 13, to a skill 15."""
    outcome, exchange = target.try_transfer(body, encoding)
    rule.check(
        message in outcome.announced,
        f"system message {message}",
        f"{list(outcome.announced) or 'none'} ({outcome.describe()})",
        exchange,
    )
