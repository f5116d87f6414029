"""Hypothesis strategies of Transfer a Chat bodies, built on the spec's own schemas.

A generated body is symbolic (`agent="receiving"`, `skill="unavailable"`) so that strategies are
defined at import time and resolved against whichever target profile the run uses; each body
renders to JSON and to XML (`render`), the XML in the target's transfer form and in one of the
layouts real writers produce (`strategies.xml_layouts`).

What MUST rules send is the documented domain: numeric ids and plain texts of modest length
(the page types the text "alphanumeric"). A run widens it only to what its profile explicitly
declares the target accepts (`TextDomain.from_decisions`, set once per run with `use_domain`);
the long, exotic and string-id cases otherwise live in their decision rules.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from strategies.xml_layouts import LAYOUTS, render_layout
from transfer_contract.domain import MODEST_TEXT, PLAIN_ALPHABET
from transfer_contract.spec import resolve
from transfer_contract.xmlcodec import TRANSFER_FORMS

TEXT_SCHEMA = resolve("#/components/schemas/Text")
MAX_TEXT = int(TEXT_SCHEMA["maxLength"])
# What XML 1.0 cannot carry (the spec's Text pattern): C0 controls but tab, LF and CR; U+FFFE/F.
XML_FORBIDDEN = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"

# The documented domain of a transfer text (PLAIN_ALPHABET, MODEST_TEXT): "alphanumeric"
# words, modest in length.
ALPHANUMERIC = string.ascii_letters + string.digits
__all__ = ["MODEST_TEXT", "PLAIN_ALPHABET"]  # re-exported: tests and suites import them from here

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
class TextDomain:
    """What a run's MUST generators may send: the documented domain, widened by declarations."""

    max_chars: int = MODEST_TEXT
    any_xml_characters: bool = False
    string_ids: bool = False

    @classmethod
    def from_decisions(cls, declared: Mapping[str, Mapping[str, Any]]) -> TextDomain:
        """The domain a profile's explicitly declared decisions admit (never rules.yaml's defaults)."""
        length = declared.get("decision-text-length", {})
        characters = declared.get("decision-text-characters", {})
        ids = declared.get("decision-ids-numeric-strings", {})
        return cls(
            max_chars=int(length["max_chars"]) if "max_chars" in length else MODEST_TEXT,
            any_xml_characters=characters.get("accepted") == "any-xml",
            string_ids=ids.get("accepted") is True,
        )


_RUN_DOMAIN: list[TextDomain] = [TextDomain()]


def use_domain(domain: TextDomain) -> None:
    """Set the run's domain; the suite's plugin does so once, before any strategy is drawn."""
    _RUN_DOMAIN[0] = domain


def run_domain() -> TextDomain:
    return _RUN_DOMAIN[0]


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


def encodings() -> st.SearchStrategy[str]:
    """json, or xml in one of the layouts XML writers produce (``xml:pretty``...)."""
    return st.sampled_from(["json", "xml", *(f"xml:{layout}" for layout in LAYOUTS if layout != "plain")])


@st.composite
def plain_texts(draw: st.DrawFn, max_size: int = MODEST_TEXT) -> str:
    """The documented domain: alphanumeric words and light punctuation, starting and ending
    with a letter or digit, at most ``max_size`` characters."""
    first = draw(st.sampled_from(ALPHANUMERIC))
    if max_size < 2:
        return first
    middle = draw(st.text(st.sampled_from(PLAIN_ALPHABET), max_size=min(max_size, MODEST_TEXT) - 2))
    return first + middle + draw(st.sampled_from(ALPHANUMERIC))


def texts_in(domain: TextDomain) -> st.SearchStrategy[str]:
    """Texts a target of ``domain`` accepts: plain ones, plus what its profile declares."""
    choices = [plain_texts(min(domain.max_chars, MODEST_TEXT))]
    if domain.any_xml_characters:
        choices.append(xml_texts(domain.max_chars))
    elif domain.max_chars > MODEST_TEXT:
        size = st.integers(min_value=domain.max_chars - 8, max_value=domain.max_chars)
        choices.append(size.map(lambda n: ("Plain words " * n)[: n - 1] + "x"))
    return st.one_of(choices)


def texts(reserve: int = 0) -> st.SearchStrategy[str]:
    """The run's texts (its domain is known only once the run's profile is: hence deferred),
    ``reserve`` characters short of its limit for a test that appends its own."""
    return st.deferred(lambda: texts_in(replace(run_domain(), max_chars=run_domain().max_chars - reserve)))


def string_ids() -> st.SearchStrategy[bool]:
    """Whether a body sends its ids as strings: only where the run's profile declares it."""
    return st.deferred(lambda: st.booleans() if run_domain().string_ids else st.just(False))


@st.composite
def xml_texts(draw: st.DrawFn, max_size: int = MAX_TEXT) -> str:
    """Texts XML can carry: any script, XML-special characters, whitespace, empty, long ones
    (the decision-text-characters domain)."""
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
        ids_as_strings=string_ids(),
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
