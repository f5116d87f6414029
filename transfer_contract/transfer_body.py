"""A transfer request as the contract defines it, and its bytes: `TransferBody` names agent and
skill by role (`agent="receiving"`), `Ids` maps the roles onto a profile's ids, and `render`
makes the JSON or XML body (the XML in the target's transfer form, laid out as a real writer
lays it out). The harness sends with this and the generators draw these; neither needs the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from transfer_contract.xml_layouts import render_layout
from transfer_contract.xmlcodec import TRANSFER_FORMS

AGENT_REFS = ("receiving", "unknown", "away", "self")
SKILL_REFS = ("available", "second_available", "unavailable", "unknown")
MEDIA_TYPES = {"json": "application/json", "xml": "application/xml"}

# The decision entries that widen what MUST generators send, once a profile declares them:
# `discover` writes them even where they equal rules.yaml's defaults.
WIDENING = {
    "decision-text-length": "max_chars",
    "decision-text-characters": "accepted",
    "decision-ids-numeric-strings": "accepted",
}


@dataclass(frozen=True)
class TransferBody:
    """A transfer request in terms of the profile's roles; render() makes it concrete."""

    agent: str | None = None
    skill: str | None = None
    text: str | None = None
    ids_as_strings: bool = False

    def without_skill(self) -> TransferBody:
        return replace(self, skill=None)

    def without_text(self) -> TransferBody:
        return replace(self, text=None)

    def describe(self) -> str:
        parts = [
            f"agent={self.agent}" if self.agent else "",
            f"skill={self.skill}" if self.skill else "",
        ]
        if self.text is not None:
            parts.append(f"text={self.text[:40]!r}{'…' if len(self.text) > 40 else ''}")
        if self.ids_as_strings and (self.agent or self.skill):
            parts.append("ids as strings")
        return ", ".join(part for part in parts if part) or "neither agent nor skill"


@dataclass(frozen=True)
class Ids:
    """The concrete ids behind the symbolic references, from a target profile."""

    agents: dict[str, str]
    skills: dict[str, str]

    @classmethod
    def of(cls, agent_ids: Mapping[str, str], skills: Mapping[str, str]) -> Ids:
        """The ids of a profile's agents by role and its skills by key (the harness's profile
        builds them: strategies know no profile)."""
        skill_ids = dict(skills)
        skill_ids.setdefault("second_available", skill_ids["available"])
        agents = {
            "receiving": agent_ids["receiving"],
            "self": agent_ids["transferring"],
            "unknown": skill_ids["unknown_agent"],
            "away": agent_ids.get("away", skill_ids["unknown_agent"]),
        }
        return cls(agents=agents, skills=skill_ids)


def to_json(body: TransferBody, ids: Ids) -> dict[str, Any]:
    def ref(value: str) -> dict[str, Any]:
        return {"id": value if body.ids_as_strings else int(value)}

    order: dict[str, Any] = {}
    if body.skill is not None:
        order["skill"] = ref(ids.skills[body.skill])
    if body.agent is not None:
        order["agent"] = ref(ids.agents[body.agent])
    if body.text is not None:
        order["text"] = body.text
    return {"transfer": order}


def to_xml_form(data: dict[str, Any], form: str) -> dict[str, Any]:
    """The JSON-convention body with agent and skill in an XML transfer ``form``."""
    if form not in TRANSFER_FORMS:
        raise ValueError(f"unknown XML transfer form {form!r}; known: {', '.join(TRANSFER_FORMS)}")
    order = dict(data["transfer"])
    for key in ("skill", "agent"):
        if key in order and form != "element":
            value = str(order[key]["id"])
            order[key] = {"@id": value} if form == "attribute" else value
    return {"transfer": order}


def render(body: TransferBody, ids: Ids, encoding: str, form: str = "element") -> tuple[bytes, str]:
    """The body's bytes and Content-Type in ``encoding``: json, xml, or xml:<layout>."""
    data = to_json(body, ids)
    if encoding == "json":
        return json.dumps(data, ensure_ascii=False).encode("utf-8"), MEDIA_TYPES["json"]
    kind, _, layout = encoding.partition(":")
    if kind != "xml":
        raise ValueError(f"unknown encoding {encoding!r}")
    ((root, value),) = to_xml_form(data, form).items()
    return render_layout(root, value, layout or "plain"), MEDIA_TYPES["xml"]
