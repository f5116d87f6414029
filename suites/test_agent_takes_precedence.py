import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import bodies_with_agent, encodings
from transfer_contract.transfer_body import SKILL_REFS, TransferBody

pytestmark = pytest.mark.rule("agent-takes-precedence")


@given(
    body=bodies_with_agent(skills=st.sampled_from(SKILL_REFS)),
    encoding=encodings(),
)
@example(body=TransferBody(agent="receiving", skill="unavailable"), encoding="json")
@example(body=TransferBody(agent="receiving", skill="available"), encoding="json")
@example(body=TransferBody(agent="unknown", skill="available"), encoding="json")
def test_agent_and_skill_behave_as_agent_alone(target, rule, body, encoding):
    """A body naming an agent and a skill has the outcome of the same body without the skill:
    same status, the chat ends up with the same agent, announced with the same system message."""
    with target.example():
        target.check_same_outcome(
            rule.id,
            (body.without_skill(), encoding),
            (body, encoding),
            "as with the agent alone: ",
        )
