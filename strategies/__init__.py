"""Hypothesis strategies of Transfer a Chat bodies, built on the spec's own schemas.

A generated body is symbolic (`agent="receiving"`, `skill="unavailable"`) so that strategies are
defined at import time and resolved against whichever target profile the run uses; each body
renders to JSON and to XML (`render`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from transfer_conformance.spec import resolve
from transfer_conformance.xmlcodec import render_body_xml

TEXT_SCHEMA = resolve("#/components/schemas/Text")
MAX_TEXT = int(TEXT_SCHEMA["maxLength"])
# What XML 1.0 cannot carry (the spec's Text pattern): C0 controls but tab, LF and CR; U+FFFE/F.
XML_FORBIDDEN = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"

AGENT_REFS = ("receiving", "unknown", "away", "self")
SKILL_REFS = ("available", "second_available", "unavailable", "unknown")
MEDIA_TYPES = {"json": "application/json", "xml": "application/xml"}


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
        return ", ".join(part for part in parts if part) or "neither agent nor skill"


@dataclass(frozen=True)
class Ids:
    """The concrete ids behind the symbolic references, from a target profile."""

    agents: dict[str, str]
    skills: dict[str, str]

    @classmethod
    def from_profile(cls, profile: Any) -> Ids:
        skills = dict(profile.skills)
        skills.setdefault("second_available", skills["available"])
        agents = {
            "receiving": profile.agents["receiving"].id,
            "self": profile.agents["transferring"].id,
            "unknown": skills["unknown_agent"],
            "away": profile.agents["away"].id if "away" in profile.agents else skills["unknown_agent"],
        }
        return cls(agents=agents, skills=skills)


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


def render(body: TransferBody, ids: Ids, encoding: str) -> tuple[bytes, str]:
    """The body's bytes and Content-Type in ``encoding`` (json or xml)."""
    data = to_json(body, ids)
    if encoding == "xml":
        return render_body_xml(data), MEDIA_TYPES["xml"]
    return json.dumps(data, ensure_ascii=False).encode("utf-8"), MEDIA_TYPES["json"]


@st.composite
def texts(draw: st.DrawFn, max_size: int = MAX_TEXT) -> str:
    """Transfer texts: any script, XML-special characters, whitespace, empty, and long ones."""
    characters = st.characters(exclude_categories=("Cs",), exclude_characters=XML_FORBIDDEN)
    kind = draw(st.sampled_from(("unicode", "special", "whitespace", "empty", "long")))
    if kind == "unicode":
        return draw(st.text(characters, min_size=1, max_size=60))
    if kind == "special":
        pieces = st.sampled_from(["<", ">", "&", "&amp;", '"', "'", "]]>", "<![CDATA[", "&#13;", " "])
        return "".join(draw(st.lists(pieces, min_size=1, max_size=8)))
    if kind == "whitespace":
        return draw(st.text(st.sampled_from(" \t\n\r"), min_size=1, max_size=6))
    if kind == "empty":
        return ""
    size = draw(st.integers(min_value=max_size - 8, max_value=max_size))
    return draw(st.sampled_from("xé中👋")) * size


def transfer_bodies(
    agents: st.SearchStrategy[str | None] | None = None,
    skills: st.SearchStrategy[str | None] | None = None,
    text: st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[TransferBody]:
    """Transfer bodies: skill only, agent only, both, neither; with or without text."""
    return st.builds(
        TransferBody,
        agent=agents if agents is not None else st.none() | st.sampled_from(AGENT_REFS),
        skill=skills if skills is not None else st.none() | st.sampled_from(SKILL_REFS),
        text=text if text is not None else st.none() | texts(),
        ids_as_strings=st.booleans(),
    )


def bodies_with_agent(**kwargs: Any) -> st.SearchStrategy[TransferBody]:
    """Bodies that name an agent (valid or not), any skill or none."""
    return transfer_bodies(agents=st.sampled_from(AGENT_REFS), **kwargs)


@dataclass(frozen=True)
class InvalidBody:
    """A body no conformant target may accept; `reason` says why."""

    reason: str
    content_type: str
    raw: bytes


_JSON_BAD_IDS = [True, None, [], {}, -1, 0, 1.5, "abc", "", "12a"]
_JSON_SHAPES = [
    (
        "transfer is a list",
        lambda ids: {"transfer": [{"skill": {"id": int(ids.skills["available"])}}]},
    ),
    (
        "text is a number",
        lambda ids: {"transfer": {"skill": {"id": int(ids.skills["available"])}, "text": 7}},
    ),
    (
        "unknown member",
        lambda ids: {"transfer": {"skill": {"id": int(ids.skills["available"])}, "queue": "x"}},
    ),
    ("no transfer wrapper", lambda ids: {"skill": {"id": int(ids.skills["available"])}}),
    (
        "text too long",
        lambda ids: {
            "transfer": {
                "skill": {"id": int(ids.skills["available"])},
                "text": "x" * (MAX_TEXT + 1),
            }
        },
    ),
    (
        "control character in text",
        lambda ids: {"transfer": {"skill": {"id": int(ids.skills["available"])}, "text": "a\u0001b"}},
    ),
]
_MALFORMED_JSON = [
    b"",
    b"{",
    b'{"transfer": {"skill": {"id": 2}}',
    b"null",
    b"[]",
    b'"transfer"',
    b"\xff\xfe{}",
]
_MALFORMED_XML = [
    b"<transfer><skill><id>2</id></skill>",
    b"<transfer><skill><id>two</id></skill></transfer>",
    b"<transfer><skill><id>-2</id></skill></transfer>",
    b"<transfer/>",
    b"<transfer><text>nobody</text></transfer>",
    b"<transfers><skill><id>2</id></skill></transfers>",
    b"<transfer><skill id='2'/></transfer>",
    b"not xml at all",
]
HOSTILE_XML = {
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE transfer [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<transfer><skill><id>SKILL</id></skill><text>&x;</text></transfer>"
    ),
    "entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE transfer [<!ENTITY a "aaaaaaaaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        b"<transfer><skill><id>SKILL</id></skill><text>&d;</text></transfer>"
    ),
    "DTD declared": (
        b'<?xml version="1.0"?><!DOCTYPE transfer [<!ELEMENT transfer ANY>]>'
        b"<transfer><skill><id>SKILL</id></skill></transfer>"
    ),
}


def hostile_xml(kind: str, skill_id: str) -> bytes:
    return HOSTILE_XML[kind].replace(b"SKILL", skill_id.encode())


@st.composite
def invalid_transfer_bodies(draw: st.DrawFn, ids: Ids) -> InvalidBody:
    """Bodies that break the spec: wrong types, malformed JSON and XML, hostile XML."""
    kind = draw(st.sampled_from(("bad id", "shape", "malformed json", "malformed xml", "hostile")))
    if kind == "bad id":
        value = draw(st.sampled_from(_JSON_BAD_IDS))
        which = draw(st.sampled_from(("skill", "agent")))
        data = {"transfer": {which: {"id": value}}}
        return InvalidBody(f"{which} id {value!r}", MEDIA_TYPES["json"], json.dumps(data).encode())
    if kind == "shape":
        reason, build = draw(st.sampled_from(_JSON_SHAPES))
        return InvalidBody(reason, MEDIA_TYPES["json"], json.dumps(build(ids)).encode())
    if kind == "malformed json":
        raw = draw(st.sampled_from(_MALFORMED_JSON))
        return InvalidBody(f"malformed JSON {raw[:30]!r}", MEDIA_TYPES["json"], raw)
    if kind == "malformed xml":
        raw = draw(st.sampled_from(_MALFORMED_XML))
        return InvalidBody(f"invalid XML {raw[:40]!r}", MEDIA_TYPES["xml"], raw)
    hostile = draw(st.sampled_from(sorted(HOSTILE_XML)))
    return InvalidBody(
        f"hostile XML: {hostile}", MEDIA_TYPES["xml"], hostile_xml(hostile, ids.skills["available"])
    )
