"""The fault catalogue: named regressions, each breaking exactly one rule of specs/rules.yaml.

The suite proves itself against these: on the reference it passes, with any one fault it
fails the fault's rule. A fault is a flag the simulator checks at the one place it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FaultName(StrEnum):
    """The catalogue's names: the simulator checks a fault by member, so a misspelt one is an
    AttributeError (and fails tests/test_faults.py), never a fault silently off."""

    SKILL_WINS_OVER_AGENT = "skill_wins_over_agent"
    XML_SKILL_WINS = "xml_skill_wins"
    TEXT_SHOWN_TO_VISITOR = "text_shown_to_visitor"
    TEXT_DROPPED = "text_dropped"
    MISSING_TEXT_REJECTED = "missing_text_rejected"
    UNAVAILABLE_SKILL_ACCEPTED = "unavailable_skill_accepted"
    UNAVAILABLE_SKILL_MOVES_CHAT = "unavailable_skill_moves_chat"
    NEITHER_ACCEPTED = "neither_accepted"
    SECOND_TRANSFER_ACCEPTED = "second_transfer_accepted"
    SYSTEM_MESSAGE_SWAPPED = "system_message_swapped"
    TRANSFER_STATUS_201 = "transfer_status_201"
    DOUBLE_TRANSFER_RACE = "double_transfer_race"
    SKILLS_LIST_COUNTS_CURRENT_AGENT = "skills_list_counts_current_agent"
    SKILLS_LIST_LISTS_OFFLINE = "skills_list_lists_offline"
    XML_SKILLS_LIST_DROPS_LAST = "xml_skills_list_drops_last"
    XML_ERROR_ROOT_RENAMED = "xml_error_root_renamed"
    MISSING_BEARER_ACCEPTED = "missing_bearer_accepted"
    FOREIGN_SESSION_ACCEPTED = "foreign_session_accepted"
    AVAILABILITY_NOT_SAVED = "availability_not_saved"
    UNKNOWN_AGENT_500 = "unknown_agent_500"
    ERROR_BODY_PLAIN_TEXT = "error_body_plain_text"
    ENTITIES_EXPANDED = "entities_expanded"
    NO_BODY_LIMIT = "no_body_limit"
    SESSION_LOCATION_FOREIGN = "session_location_foreign"
    STRING_IDS_REFUSED = "string_ids_refused"
    NON_ASCII_TEXT_REFUSED = "non_ascii_text_refused"
    TEXT_AT_LIMIT_REFUSED = "text_at_limit_refused"
    # Faults of a chat's life: only a sequence of calls, or calls at once, shows them.
    SECOND_HOP_NOOP = "second_hop_noop"
    TRANSFER_BACK_REFUSED = "transfer_back_refused"
    WRONG_CHAT_MOVES = "wrong_chat_moves"
    NTH_TRANSFER_NOOP = "nth_transfer_noop"
    SECOND_HOP_UNANNOUNCED = "second_hop_unannounced"
    SECOND_HOP_TEXT_TO_VISITOR = "second_hop_text_to_visitor"
    PASSED_ON_CHAT_KEPT = "passed_on_chat_kept"
    REFUSED_TRANSFER_UNRINGS = "refused_transfer_unrings"
    SKILLS_LIST_STALE = "skills_list_stale"
    CONCURRENT_HOP_RACE = "concurrent_hop_race"
    AWAY_AFTER_LOGIN_STILL_ROUTED = "away_after_login_still_routed"


# nth_transfer_noop: the accepted transfer of the server's life from which it bites.
NTH_TRANSFER = 12


@dataclass(frozen=True)
class Fault:
    name: FaultName
    rule: str
    description: str


FAULTS: tuple[Fault, ...] = (
    Fault(
        FaultName.SKILL_WINS_OVER_AGENT,
        "agent-takes-precedence",
        "a body naming both an agent and a skill goes to the skill",
    ),
    Fault(
        FaultName.XML_SKILL_WINS,
        "xml-json-equivalent",
        "XML bodies naming both an agent and a skill go to the skill (JSON ones do not)",
    ),
    Fault(
        FaultName.TEXT_SHOWN_TO_VISITOR,
        "text-only-to-receiving-agent",
        "the transfer text is visible in the visitor's chat",
    ),
    Fault(
        FaultName.TEXT_DROPPED,
        "text-only-to-receiving-agent",
        "the transfer text is stored nowhere, so the receiving agent never sees it",
    ),
    Fault(FaultName.MISSING_TEXT_REJECTED, "text-optional", "a transfer without a text is refused with 400"),
    Fault(
        FaultName.UNAVAILABLE_SKILL_ACCEPTED,
        "unavailable-skill-rejected",
        "a transfer to a skill with no online agent succeeds",
    ),
    Fault(
        FaultName.UNAVAILABLE_SKILL_MOVES_CHAT,
        "unavailable-skill-rejected",
        "a transfer to an unavailable skill answers 400 but the chat leaves the agent anyway",
    ),
    Fault(
        FaultName.NEITHER_ACCEPTED,
        "agent-or-skill-required",
        "a body naming neither agent nor skill answers 200",
    ),
    Fault(
        FaultName.SECOND_TRANSFER_ACCEPTED,
        "transfer-moves-chat",
        "the transferring agent keeps the chat and can transfer it again",
    ),
    Fault(
        FaultName.SYSTEM_MESSAGE_SWAPPED,
        "transfer-system-message",
        "a transfer to an agent is announced with system message 15",
    ),
    Fault(
        FaultName.TRANSFER_STATUS_201,
        "transfer-success-status",
        "a successful transfer answers 201 instead of 200",
    ),
    Fault(
        FaultName.DOUBLE_TRANSFER_RACE,
        "concurrent-transfer-single-winner",
        "two concurrent transfers of one chat both succeed",
    ),
    Fault(
        FaultName.SKILLS_LIST_COUNTS_CURRENT_AGENT,
        "skills-list-available-only",
        "the skills list counts the agent already in the chat as available",
    ),
    Fault(
        FaultName.SKILLS_LIST_LISTS_OFFLINE,
        "skills-list-available-only",
        "the skills list includes skills whose agents are all offline",
    ),
    Fault(
        FaultName.XML_SKILLS_LIST_DROPS_LAST,
        "xml-responses-match-json",
        "the XML skills list leaves out the last skill the JSON one lists",
    ),
    Fault(
        FaultName.XML_ERROR_ROOT_RENAMED,
        "xml-responses-valid",
        "XML error bodies use the root <fault> instead of <error>",
    ),
    Fault(
        FaultName.MISSING_BEARER_ACCEPTED,
        "bearer-required",
        "agent calls without Authorization are served as the session's agent",
    ),
    Fault(
        FaultName.FOREIGN_SESSION_ACCEPTED,
        "session-owner-only",
        "any valid bearer can use another agent's session",
    ),
    Fault(
        FaultName.AVAILABILITY_NOT_SAVED,
        "availability-states",
        "setting availability answers 200 but the stored value does not change",
    ),
    Fault(
        FaultName.UNKNOWN_AGENT_500,
        "decision-status-unknown-target",
        "a transfer to an unknown agent id fails with 500",
    ),
    Fault(
        FaultName.ERROR_BODY_PLAIN_TEXT,
        "decision-error-body",
        "4xx answers carry a plain-text body instead of the error envelope",
    ),
    Fault(
        FaultName.ENTITIES_EXPANDED,
        "decision-hostile-xml",
        "XML bodies with internal entity declarations are parsed and expanded",
    ),
    Fault(FaultName.NO_BODY_LIMIT, "decision-body-size-limit", "bodies of any size are read and parsed"),
    Fault(
        FaultName.SESSION_LOCATION_FOREIGN,
        "openapi-contract",
        "a new agent session's Location header names another origin than the request's",
    ),
    Fault(
        FaultName.STRING_IDS_REFUSED,
        "decision-ids-numeric-strings",
        'ids written as strings ({"id": "6"}) are refused with 400',
    ),
    Fault(
        FaultName.NON_ASCII_TEXT_REFUSED,
        "decision-text-characters",
        "transfer texts with any character outside ASCII are refused with 400",
    ),
    Fault(
        FaultName.TEXT_AT_LIMIT_REFUSED,
        "decision-text-length",
        "a text of exactly the maximum length is refused (the limit check is off by one)",
    ),
    Fault(
        FaultName.SECOND_HOP_NOOP,
        "routing-model",
        "a chat's second and later transfers answer 200 and move nothing",
    ),
    Fault(
        FaultName.TRANSFER_BACK_REFUSED,
        "routing-model",
        "a transfer back to an agent who held the chat before is refused with 400",
    ),
    Fault(
        FaultName.WRONG_CHAT_MOVES,
        "routing-model",
        "an agent holding two chats who transfers one moves the one it took first",
    ),
    Fault(
        FaultName.NTH_TRANSFER_NOOP,
        "routing-model",
        f"from the server's {NTH_TRANSFER}th accepted transfer on, transfers answer 200 and move nothing",
    ),
    Fault(
        FaultName.SECOND_HOP_UNANNOUNCED,
        "routing-model",
        "a chat's second and later transfers add no system message",
    ),
    Fault(
        FaultName.SECOND_HOP_TEXT_TO_VISITOR,
        "routing-model",
        "on a chat's second and later transfers the text is shown to the visitor",
    ),
    Fault(
        FaultName.PASSED_ON_CHAT_KEPT,
        "routing-model",
        "an agent who got a chat by transfer keeps it when passing it on, so nobody can take it",
    ),
    Fault(
        FaultName.REFUSED_TRANSFER_UNRINGS,
        "routing-model",
        "a refused transfer by an agent a chat rings for stops it ringing for them",
    ),
    Fault(
        FaultName.SKILLS_LIST_STALE,
        "routing-model",
        "a chat's skills list is computed at its first read and served again after availability changes",
    ),
    Fault(
        FaultName.CONCURRENT_HOP_RACE,
        "routing-model",
        "two concurrent transfers of a chat both succeed on its second and later hops",
    ),
    Fault(
        FaultName.AWAY_AFTER_LOGIN_STILL_ROUTED,
        "routing-model",
        "a skill whose agents went Away after being Online still takes transfers (its list is right)",
    ),
)

BY_NAME = {fault.name: fault for fault in FAULTS}


class UnknownFaultError(ValueError):
    pass


def parse_faults(names: list[str] | tuple[str, ...]) -> frozenset[FaultName]:
    """Validate fault names given on a command line or by a test."""
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise UnknownFaultError(
            f"unknown fault {', '.join(unknown)}; `transfer-conformance faults` lists them"
        )
    return frozenset(FaultName(name) for name in names)
