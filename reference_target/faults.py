"""The fault catalogue: named regressions, each breaking exactly one rule of specs/rules.yaml.

The suite proves itself against these: on the reference it passes, with any one fault it
fails the fault's rule. A fault is a flag the simulator checks at the one place it changes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    rule: str
    description: str


FAULTS: tuple[Fault, ...] = (
    Fault(
        "skill_wins_over_agent",
        "agent-takes-precedence",
        "a body naming both an agent and a skill goes to the skill",
    ),
    Fault(
        "xml_skill_wins",
        "xml-json-equivalent",
        "XML bodies naming both an agent and a skill go to the skill (JSON ones do not)",
    ),
    Fault(
        "text_shown_to_visitor",
        "text-only-to-receiving-agent",
        "the transfer text is visible in the visitor's chat",
    ),
    Fault(
        "text_dropped",
        "text-only-to-receiving-agent",
        "the transfer text is stored nowhere, so the receiving agent never sees it",
    ),
    Fault("missing_text_rejected", "text-optional", "a transfer without a text is refused with 400"),
    Fault(
        "unavailable_skill_accepted",
        "unavailable-skill-rejected",
        "a transfer to a skill with no online agent succeeds",
    ),
    Fault(
        "unavailable_skill_moves_chat",
        "unavailable-skill-rejected",
        "a transfer to an unavailable skill answers 400 but the chat leaves the agent anyway",
    ),
    Fault(
        "neither_accepted",
        "agent-or-skill-required",
        "a body naming neither agent nor skill answers 200",
    ),
    Fault(
        "second_transfer_accepted",
        "transfer-moves-chat",
        "the transferring agent keeps the chat and can transfer it again",
    ),
    Fault(
        "system_message_swapped",
        "transfer-system-message",
        "a transfer to an agent is announced with system message 15",
    ),
    Fault(
        "transfer_status_201",
        "transfer-success-status",
        "a successful transfer answers 201 instead of 200",
    ),
    Fault(
        "double_transfer_race",
        "concurrent-transfer-single-winner",
        "two concurrent transfers of one chat both succeed",
    ),
    Fault(
        "skills_list_counts_current_agent",
        "skills-list-available-only",
        "the skills list counts the agent already in the chat as available",
    ),
    Fault(
        "skills_list_lists_offline",
        "skills-list-available-only",
        "the skills list includes skills whose agents are all offline",
    ),
    Fault(
        "xml_skills_list_drops_last",
        "xml-responses-match-json",
        "the XML skills list leaves out the last skill the JSON one lists",
    ),
    Fault(
        "xml_error_root_renamed",
        "xml-responses-valid",
        "XML error bodies use the root <fault> instead of <error>",
    ),
    Fault(
        "missing_bearer_accepted",
        "bearer-required",
        "agent calls without Authorization are served as the session's agent",
    ),
    Fault(
        "foreign_session_accepted",
        "session-owner-only",
        "any valid bearer can use another agent's session",
    ),
    Fault(
        "availability_not_saved",
        "availability-states",
        "setting availability answers 200 but the stored value does not change",
    ),
    Fault(
        "unknown_agent_500",
        "decision-status-unknown-target",
        "a transfer to an unknown agent id fails with 500",
    ),
    Fault(
        "error_body_plain_text",
        "decision-error-body",
        "4xx answers carry a plain-text body instead of the error envelope",
    ),
    Fault(
        "entities_expanded",
        "decision-hostile-xml",
        "XML bodies with internal entity declarations are parsed and expanded",
    ),
    Fault("no_body_limit", "decision-body-size-limit", "bodies of any size are read and parsed"),
    Fault(
        "session_location_foreign",
        "openapi-contract",
        "a new agent session's Location header names another origin than the request's",
    ),
)

BY_NAME = {fault.name: fault for fault in FAULTS}


class UnknownFaultError(ValueError):
    pass


def parse_faults(names: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Validate fault names given on a command line or by a test."""
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise UnknownFaultError(
            f"unknown fault {', '.join(unknown)}; `transfer-conformance faults` lists them"
        )
    return frozenset(names)
