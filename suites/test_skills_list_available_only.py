import pytest

from strategies import TransferBody
from transfer_conformance.flow import as_list, decode
from transfer_conformance.verdict import check

pytestmark = pytest.mark.rule("skills-list-available-only")

MAX_LISTED_PROBES = 3


def listed_skills(target, chat_id):
    exchange = target.api.available_skills(target.transferring, chat_id)
    check(exchange.status == 200, "skills-list-available-only", "200", f"{exchange.status}", exchange)
    body = decode(exchange, "getAvailableSkills")
    return {str(s["id"]): s for s in as_list((body.get("transfer") or {}).get("skill"))}, exchange


def test_list_holds_the_available_skill_and_not_the_unavailable_ones(target):
    """The profile's available skill is listed; its unavailable and unknown skills are not, nor a
    skill whose only online agent is the one already in the chat."""
    chat_id = target.open_chat()
    listed, exchange = listed_skills(target, chat_id)
    skills = target.profile.skills
    check(
        skills["available"] in listed,
        "skills-list-available-only",
        f"skill {skills['available']} listed",
        f"listed: {sorted(listed)}",
        exchange,
    )
    for key in ("unavailable", "unknown", "only_transferring"):
        if key in skills:
            check(
                skills[key] not in listed,
                "skills-list-available-only",
                f"the {key} skill {skills[key]} not listed",
                f"listed: {sorted(listed)}",
                exchange,
            )


def test_every_listed_skill_accepts_a_transfer(target):
    """Each listed skill counts at least one online agent and accepts a transfer of the chat."""
    chat_id = target.open_chat()
    listed, exchange = listed_skills(target, chat_id)
    for skill_id, entry in sorted(listed.items())[:MAX_LISTED_PROBES]:
        check(
            int(entry.get("onlineAgents", 0)) >= 1,
            "skills-list-available-only",
            "onlineAgents of 1 or more",
            f"{entry}",
            exchange,
        )
        probe_chat = target.open_chat()
        raw = f'{{"transfer": {{"skill": {{"id": {int(skill_id)}}}}}}}'.encode()
        answer = target.transfer_raw(
            probe_chat, raw, "application/json", f"transfer to listed skill {skill_id}"
        )
        check(
            answer.status == 200,
            "skills-list-available-only",
            f"listed skill {skill_id} accepts a transfer (200)",
            f"{answer.status}",
            exchange,
            answer,
        )


def test_list_follows_the_chat_after_a_failed_transfer(target):
    """A refused transfer leaves the list as it was."""
    chat_id = target.open_chat()
    before, _ = listed_skills(target, chat_id)
    target.transfer(chat_id, TransferBody(skill="unavailable"))
    after, exchange = listed_skills(target, chat_id)
    check(
        set(before) == set(after),
        "skills-list-available-only",
        f"{sorted(before)}",
        f"{sorted(after)}",
        exchange,
    )
