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
    """Each listed skill counts at least one online agent; each the profile names accepts a
    transfer of the chat. (The list is the account's: a probe chat sent to a skill the profile
    does not name would reach other people's agents, or another lane's, which come and go.)"""
    chat_id = target.open_chat()
    listed, exchange = listed_skills(target, rule, chat_id)
    named = set(target.profile.skills.values())
    for _, entry in sorted(listed.items()):
        rule.check(
            int(entry.get("onlineAgents", 0)) >= 1,
            "onlineAgents of 1 or more",
            f"{entry}",
            exchange,
        )
    for skill_id in sorted(set(listed) & named)[:MAX_LISTED_PROBES]:
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
    """A refused transfer leaves the list as it was, for the skills the profile names (the list
    is the account's: other agents, another lane's or a colleague's, come and go meanwhile)."""
    chat_id = target.open_chat()
    named = set(target.profile.skills.values())
    before, _ = listed_skills(target, rule, chat_id)
    target.transfer(chat_id, TransferBody(skill="unavailable"))
    after, exchange = listed_skills(target, rule, chat_id)
    rule.check(
        set(before) & named == set(after) & named,
        f"{sorted(set(before) & named)}",
        f"{sorted(set(after) & named)}",
        exchange,
    )
