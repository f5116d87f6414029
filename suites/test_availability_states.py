import pytest

pytestmark = pytest.mark.rule("availability-states")


@pytest.mark.parametrize("state", ["Occupied", "Away", "Online"])
def test_availability_reads_back_as_set(target, rule, state):
    """Setting chat availability to Online, Away or Occupied is accepted and reads back."""
    role = "away" if "away" in target.agents else "receiving"
    agent = target.agents[role]
    restore = "Away" if role == "away" else "Online"
    try:
        answer = target.api.set_availability(agent, state, setup=False)
        rule.check(answer.status == 200, "200", f"{answer.status}", answer)
        read = target.api.get_availability(agent)
        value = read.json().get("availability", {}).get("chat") if read.status == 200 else None
        rule.check(value == state, state, f"{value!r}", answer, read)
    finally:
        target.api.set_availability(agent, restore)
