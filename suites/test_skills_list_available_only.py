import pytest

from transfer_conformance.target_api.harness import as_list, decode
from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("skills-list-available-only")

MAX_LISTED_PROBES = 3


def listed_skills(target, rule, chat_id):
    exchange = target.api.available_skills(target.transferring, chat_id)
    rule.check(exchange.status == 200, "200", f"{exchange.status}", exchange)
    body = decode(exchange, "getAvailableSkills")
    return {str(s["id"]): s for s in as_list((body.get("transfer") or {}).get("skill"))}, exchange


def test_list_holds_the_available_skill_and_not_the_unavailable_ones(target, rule):
    """The profile's available skill is listed; its unavailable and unknown skills are not, nor a
    skill whose only online agent is the one already in the chat."""
    chat_id = target.open_chat()
    listed, exchange = listed_skills(target, rule, chat_id)
    skills = target.profile.skills
    rule.check(
        skills["available"] in listed,
        f"skill {skills['available']} listed",
        f"listed: {sorted(listed)}",
        exchange,
    )
    for key in ("unavailable", "unknown", "only_transferring"):
        if key in skills:
            rule.check(
                skills[key] not in listed,
                f"the {key} skill {skills[key]} not listed",
                f"listed: {sorted(listed)}",
                exchange,
            )


def test_every_listed_skill_accepts_a_transfer(target, rule):
    """Each listed skill counts at least one online agent and accepts a transfer of the chat.
    (Running in lanes, the skills another lane names are left out: a probe chat sent there
    would reach that lane's agents.)"""
    chat_id = target.open_chat()
    listed, exchange = listed_skills(target, rule, chat_id)
    probed = sorted((key, entry) for key, entry in listed.items() if key not in target.profile.others_skills)
    for skill_id, entry in probed[:MAX_LISTED_PROBES]:
        rule.check(
            int(entry.get("onlineAgents", 0)) >= 1,
            "onlineAgents of 1 or more",
            f"{entry}",
            exchange,
        )
        probe_chat = target.open_chat()
        raw = f'{{"transfer": {{"skill": {{"id": {int(skill_id)}}}}}}}'.encode()
        answer = target.transfer_raw(
            probe_chat, raw, "application/json", f"transfer to listed skill {skill_id}"
        )
        rule.check(
            answer.status == 200,
            f"listed skill {skill_id} accepts a transfer (200)",
            f"{answer.status}",
            exchange,
            answer,
        )


def test_list_follows_the_chat_after_a_failed_transfer(target, rule):
    """A refused transfer leaves the list as it was."""
    chat_id = target.open_chat()
    before, _ = listed_skills(target, rule, chat_id)
    target.transfer(chat_id, TransferBody(skill="unavailable"))
    after, exchange = listed_skills(target, rule, chat_id)
    rule.check(
        set(before) == set(after),
        f"{sorted(before)}",
        f"{sorted(after)}",
        exchange,
    )
