import pytest

from transfer_conformance.target_api.harness import as_list, decode
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("decision-occupied-not-online")


def test_occupied_agent_does_not_make_a_skill_available_but_takes_agent_transfers(target, rule):
    """A skill whose only agent is Occupied is not listed (listed where the profile says routed =
    true); that agent still takes a transfer by id."""
    routed = bool(target.decision(rule.id).get("routed", False))
    receiving = target.receiving
    target.api.expect_status(target.api.set_availability(receiving, "Occupied"), 200)
    try:
        chat_id = target.open_chat()
        listed = target.api.available_skills(target.transferring, chat_id)
        ids = {
            str(s.get("id"))
            for s in as_list((decode(listed, "getAvailableSkills").get("transfer") or {}).get("skill"))
        }
        skill = target.profile.skills["available"]
        if rule.discovering:
            rule.observe("routed", skill in ids, listed)
        else:
            rule.check(
                (skill in ids) == routed,
                f"skill {skill} {'listed' if routed else 'not listed'} while its agent is Occupied",
                f"listed: {sorted(ids)}",
                listed,
            )
        moved = target.transfer(chat_id, TransferBody(agent="receiving"))
        rule.check(
            moved.status == 200,
            "200 for a transfer to the Occupied agent by id",
            f"{moved.status}",
            moved,
        )
    finally:
        target.api.set_availability(receiving, "Online")
