"""What one reference instance answers where the docs are silent: its dialect.

The default dialect is the one specs/rules.yaml records as our decisions. A seed's
`[reference.dialect]` table picks others, so that variants of the reference (targets/variants/)
stand in for conformant servers that decided otherwise, and prove the suite does not mistake
their decisions for violations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

# The error cases a dialect may answer with another status, by the error body's internal code.
CASES = {
    10: "bad_login",
    20: "bad_bearer",
    21: "unknown_session",
    22: "foreign_session",
    13: "ended_chat",
    14: "chat_not_owned",
    30: "nothing_ringing",
    41: "neither",
    43: "unknown_target",
    47: "unknown_target",
    44: "self_transfer",
    45: "away_agent",
    46: "max_chats",
    48: "unavailable_skill",
    49: "hostile_xml",
    50: "too_large",
    51: "malformed",
    52: "malformed",
    53: "malformed",
    55: "malformed",
    54: "unsupported_media",
    62: "text_too_long",
    63: "string_id",
    65: "text_characters",
}
XML_TRANSFER_FORMS = ("element", "text", "attribute")
ID_STYLES = ("mixed", "strings", "numbers")
EVENT_ORDERS = ("reference", "docs")
UNAUTHORIZED_BODIES = ("envelope", "form")
TEXT_CHARACTERS = ("any-xml", "documented")
# The form-encoded answer LivePerson's Chat Agent API was seen to give a rejected token
# (developer-center issue 193).
OAUTH_REJECTED = (
    "oauth_problem=token_rejected&oauth_problem_advice=the%20oauth_token%20is%20unacceptable"
    "%20to%20the%20Service%20Provider"
)


class DialectError(ValueError):
    """A [reference.dialect] table that names an unknown key or value."""


@dataclass(frozen=True)
class Dialect:
    statuses: Mapping[str, int] = field(default_factory=dict)
    text_max_chars: int = 4000
    # "documented": only letters, digits and plain punctuation (transfer_contract.domain)
    text_characters: str = "any-xml"
    unauthorized_body: str = "envelope"
    ids: str = "mixed"
    string_ids_accepted: bool = True
    collapse_single: bool = True
    extra_fields: bool = False
    event_order: str = "reference"
    xml_transfer_form: str = "element"
    separate_visitor_host: bool = False
    # 0: every event in one answer; N: at most N events an answer, the rest behind `next`
    events_page_size: int = 0
    # Occupied agents count for skills (listed, routed to) as Online ones do
    occupied_routed: bool = False
    # an agent who passed a chat on may still read it (never write in it or transfer it)
    former_holder_reads: bool = False
    # the availability an agent's first session starts in
    login_availability: str = "Online"

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> Dialect:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise DialectError(f"[reference.dialect] has unknown keys: {', '.join(unknown)}")
        dialect = cls(**table)
        bad_cases = sorted(set(dialect.statuses) - set(CASES.values()))
        if bad_cases:
            raise DialectError(f"[reference.dialect.statuses] names unknown cases: {', '.join(bad_cases)}")
        for name, allowed in (
            ("xml_transfer_form", XML_TRANSFER_FORMS),
            ("ids", ID_STYLES),
            ("event_order", EVENT_ORDERS),
            ("unauthorized_body", UNAUTHORIZED_BODIES),
            ("text_characters", TEXT_CHARACTERS),
            ("login_availability", ("Online", "Away", "Occupied")),
        ):
            if getattr(dialect, name) not in allowed:
                raise DialectError(f"[reference.dialect] {name} must be one of {', '.join(allowed)}")
        return dialect

    def status_for(self, internal_code: int, default: int) -> int:
        return self.statuses.get(CASES.get(internal_code, ""), default)

    def collapse(self, items: list[Any]) -> Any:
        """The API's JSON convention: a one-item list may be sent as the item itself."""
        return items[0] if len(items) == 1 and self.collapse_single else items

    def number(self, value: Any, default: str) -> Any:
        """An id or count as this dialect writes it: ``default`` ("str" or "int") when mixed."""
        style = {"mixed": default, "strings": "str", "numbers": "int"}[self.ids]
        return int(value) if style == "int" else str(value)

    def extra(self, view: dict[str, Any], **extras: Any) -> dict[str, Any]:
        """The view with fields a minimal reading does not show, when this dialect adds them."""
        return {**view, **extras} if self.extra_fields else view
