"""The rule catalogue (specs/rules.yaml) and the test vectors (specs/examples/*.yaml)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from transfer_contract.paths import EXAMPLES, RULES, SCHEMAS

# libyaml's safe loader where PyYAML has it: the same documents, read about ten times faster
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LEVELS = ("MUST", "SHOULD", "MAY")
KINDS = ("documented", "derived", "decision")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    feature: str
    kind: str
    level: str
    doc_url: str
    doc_section: str
    behaviour: str
    check: str = "suite"
    reason: str = ""
    must_because: str = ""
    expect: dict[str, Any] = field(default_factory=dict)
    # the words a setting of ``expect`` may take, where it is one of a few
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def module(self) -> str:
        """The suite module that checks this rule."""
        return f"test_{self.id.replace('-', '_')}.py"

    @property
    def gating(self) -> bool:
        """Whether a failure of this rule fails a run without --strict."""
        return self.level == "MUST"


def is_status_key(key: str) -> bool:
    """Whether a decision's ``expect`` key names an HTTP status (``status``, ``*_status``)."""
    return key == "status" or key.endswith("_status")


class CatalogueError(ValueError):
    """rules.yaml or a vector file that does not follow its JSON Schema (specs/schemas/)."""


@functools.cache
def _schema_validator(name: str) -> jsonschema.protocols.Validator:
    with (SCHEMAS / name).open(encoding="utf-8") as handle:
        return jsonschema.Draft202012Validator(json.load(handle))


def checked(data: Any, schema: str, where: str) -> Any:
    """``data`` if it follows specs/schemas/``schema``; else a CatalogueError naming where."""
    error = jsonschema.exceptions.best_match(_schema_validator(schema).iter_errors(data))
    if error is not None:
        path = "/".join(str(part) for part in error.absolute_path) or "(top)"
        raise CatalogueError(f"{where}: at {path}: {error.message}")
    return data


@functools.cache
def rules() -> dict[str, Rule]:
    """The catalogue by rule id, in file order."""
    with RULES.open(encoding="utf-8") as handle:
        data = checked(yaml.load(handle, Loader=SAFE_LOADER), "rules.schema.json", RULES.name)
    entries = data["rules"]
    found: dict[str, Rule] = {}
    for entry in entries:
        doc = entry.get("doc", {})
        rule = Rule(
            id=entry["id"],
            title=entry["title"],
            feature=entry.get("feature", "Other"),
            kind=entry["kind"],
            level=entry["level"],
            doc_url=doc.get("url", ""),
            doc_section=doc.get("section", ""),
            behaviour=entry["behaviour"],
            check=entry.get("check", "suite"),
            reason=entry.get("reason", ""),
            must_because=entry.get("must_because", ""),
            expect=entry.get("expect", {}) or {},
            values={key: tuple(words) for key, words in (entry.get("values") or {}).items()},
        )
        found[rule.id] = rule
    return found


class _VectorLoader(SAFE_LOADER):  # type: ignore[misc,valid-type]
    """YAML with two tags that keep long vectors readable: !repeat [s, n] and !concat [...]."""


def _repeat(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    text, count = loader.construct_sequence(node)
    return str(text) * int(count)


def _concat(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return "".join(str(part) for part in loader.construct_sequence(node, deep=True))


_VectorLoader.add_constructor("!repeat", _repeat)
_VectorLoader.add_constructor("!concat", _concat)


@dataclass(frozen=True)
class Vector:
    file: str
    operation: str
    direction: str
    status: str
    description: str
    rules: tuple[str, ...]
    valid: bool
    json: Any
    json_raw: str | None
    xml: str
    xml_decodes_to: Any
    invalid_because: dict[str, str]

    @property
    def id(self) -> str:
        return f"{self.file}: {self.description}"

    def body(self, encoding: str) -> bytes:
        """The vector's body as sent: its JSON (or raw JSON text) or its XML, UTF-8."""
        if encoding == "xml":
            return self.xml.encode("utf-8")
        if self.json_raw is not None:
            return self.json_raw.encode("utf-8")
        return json.dumps(self.json, ensure_ascii=False).encode("utf-8")


def load_vector_file(path: Path) -> list[Vector]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_VectorLoader)  # a safe loader's subclass
    checked(data, "vectors.schema.json", f"examples/{path.name}")
    vectors = []
    for case in data["cases"]:
        vectors.append(
            Vector(
                file=path.name,
                operation=data["operation"],
                direction=data["direction"],
                status=str(data.get("status", "")),
                description=case["description"],
                rules=tuple(case.get("rules", ())),
                valid=bool(case["valid"]),
                json=case.get("json"),
                json_raw=case.get("json_raw"),
                xml=case["xml"],
                xml_decodes_to=case.get("xml_decodes_to", case.get("json")),
                invalid_because=case.get("invalid_because", {}),
            )
        )
    return vectors


@functools.cache
def vectors() -> tuple[Vector, ...]:
    """Every vector of specs/examples, file by file."""
    found: list[Vector] = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        found.extend(load_vector_file(path))
    return tuple(found)
