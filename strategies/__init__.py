"""Hypothesis strategies of Transfer a Chat bodies, built on the spec's own schemas.

A generated body is symbolic (`agent="receiving"`, `skill="unavailable"`) so that strategies are
defined at import time and resolved against whichever target profile the run uses; each body
renders to JSON and to XML (`render`), the XML in the target's transfer form and in one of the
layouts real writers produce (`transfer_contract.xml_layouts`).

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

from transfer_contract.catalogue import vectors
from transfer_contract.domain import MODEST_TEXT, PLAIN_ALPHABET
from transfer_contract.spec import resolve
from transfer_contract.transfer_body import (
    AGENT_REFS,
    MEDIA_TYPES,
    SKILL_REFS,
    WIDENING,
    Ids,
    TransferBody,
    render,
)
from transfer_contract.xml_layouts import LAYOUTS

TEXT_SCHEMA = resolve("#/components/schemas/Text")
MAX_TEXT = int(TEXT_SCHEMA["maxLength"])
# What XML 1.0 cannot carry (the spec's Text pattern): C0 controls but tab, LF and CR; U+FFFE/F.
XML_FORBIDDEN = "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + "\ufffe\uffff"

# The documented domain of a transfer text (PLAIN_ALPHABET, MODEST_TEXT): "alphanumeric"
# words, modest in length.
ALPHANUMERIC = string.ascii_letters + string.digits
# re-exported: tests and suites import them from here
__all__ = ["MODEST_TEXT", "PLAIN_ALPHABET", "SKILL_REFS", "WIDENING", "Ids", "TransferBody", "render"]


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
MALFORMED_RULE = "decision-status-malformed-body"
HOSTILE_RULE = "decision-hostile-xml"


def vector_bodies(rule_id: str, encodings: tuple[str, ...] = ("json", "xml")) -> list[InvalidBody]:
    """The invalid vectors of specs/examples tagged with ``rule_id``, as raw bodies."""
    return [
        InvalidBody(f"{vector.description} ({kind.upper()})", MEDIA_TYPES[kind], vector.body(kind))
        for vector in vectors()
        if rule_id in vector.rules and not vector.valid
        for kind in encodings
    ]


def hostile_xml_bodies(skill_id: str) -> list[InvalidBody]:
    """The hostile XML vectors, naming the target's own skill (the vectors name skill 12), so
    that a target that took one would have nothing else to refuse."""
    return [
        InvalidBody(
            body.reason, body.content_type, body.raw.replace(b"<id>12</id>", f"<id>{skill_id}</id>".encode())
        )
        for body in vector_bodies(HOSTILE_RULE, ("xml",))
    ]


@st.composite
def invalid_transfer_bodies(draw: st.DrawFn, ids: Ids, hostile: bool = True) -> InvalidBody:
    """Bodies that break the spec: ids of the wrong type (drawn), and the malformed (and, with
    ``hostile``, the hostile) vectors of specs/examples."""
    kind = draw(st.sampled_from(("bad id", "vector", "hostile") if hostile else ("bad id", "vector")))
    if kind == "bad id":
        value = draw(st.sampled_from(_JSON_BAD_IDS))
        which = draw(st.sampled_from(("skill", "agent")))
        data = {"transfer": {which: {"id": value}}}
        return InvalidBody(f"{which} id {value!r}", MEDIA_TYPES["json"], json.dumps(data).encode())
    if kind == "vector":
        return draw(st.sampled_from(vector_bodies(MALFORMED_RULE)))
    return draw(st.sampled_from(hostile_xml_bodies(ids.skills["available"])))
