import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from strategies import encodings, texts
from transfer_conformance.target_api.harness import as_list, decode
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("unavailable-skill-rejected")


@given(
    skill=st.sampled_from(["unavailable", "unknown"]),
    text=st.none() | texts(),
    encoding=encodings(),
)
@example(skill="unavailable", text=None, encoding="json")
@example(skill="unavailable", text="over to you", encoding="xml")
def test_transfer_to_a_skill_not_listed_is_refused_and_changes_nothing(target, rule, skill, text, encoding):
    """A transfer to a skill the skills list does not show is a 4xx and changes nothing."""
    with target.example():
        chat_id = target.open_chat()
        listed = target.api.available_skills(target.transferring, chat_id)
        skill_id = target.ids.skills[skill]
        if listed.status == 200:
            ids = {
                str(s.get("id"))
                for s in as_list((decode(listed, "getAvailableSkills").get("transfer") or {}).get("skill"))
            }
            if skill_id in ids:
                pytest.fail(
                    f"profile problem: skill {skill_id} is listed as available; it cannot "
                    "stand for an unavailable skill",
                    pytrace=False,
                )
        exchange = target.transfer(chat_id, TransferBody(skill=skill, text=text), encoding)
        rule.refused(exchange)
        target.check_unchanged(rule.id, chat_id, exchange)
