"""The OpenAPI reading of the API: operations, body schemas and validators.

The spec is the single source of the body shapes; the suite, the strategies, the reference
target and the vectors all read it from here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jsonschema
import referencing
import yaml
from referencing.jsonschema import DRAFT202012

from transfer_contract.catalogue import SAFE_LOADER
from transfer_contract.paths import OPENAPI

SPEC_URI = "urn:transfer-conformance:chat-agent-api"


@functools.cache
def openapi() -> dict[str, Any]:
    """The parsed OpenAPI document."""
    with OPENAPI.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=SAFE_LOADER)


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    definition: dict[str, Any]

    def request_media(self, media_type: str) -> dict[str, Any] | None:
        return self.definition.get("requestBody", {}).get("content", {}).get(media_type)

    def media(self, direction: str, media_type: str, status: str = "") -> dict[str, Any] | None:
        """The request body's media object, or the response's for ``status``."""
        if direction == "request":
            return self.request_media(media_type)
        return self.response_media(status, media_type)

    def response_media(self, status: str, media_type: str) -> dict[str, Any] | None:
        """The response's media object for ``status``: the exact code, else its range (``4XX``),
        else ``default``, as OpenAPI resolves them."""
        responses = self.definition.get("responses", {})
        response = next(
            (responses[key] for key in (status, f"{status[:1]}XX", "default") if key in responses), None
        )
        if response is None:
            return None
        if "$ref" in response:
            response = resolve(response["$ref"])
        return response.get("content", {}).get(media_type)


def resolve(ref: str) -> dict[str, Any]:
    """Follow a local ``#/...`` reference in the spec."""
    node: Any = openapi()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


@functools.cache
def operations() -> dict[str, Operation]:
    """Every operation of the spec by operationId."""
    found: dict[str, Operation] = {}
    for path, item in openapi()["paths"].items():
        for method, definition in item.items():
            if isinstance(definition, dict) and "operationId" in definition:
                found[definition["operationId"]] = Operation(
                    definition["operationId"], method.upper(), path, definition
                )
    return found


@functools.cache
def _registry() -> referencing.Registry:
    resource = referencing.Resource(contents=openapi(), specification=DRAFT202012)
    return referencing.Registry().with_resource(SPEC_URI, resource)


def _rebase(schema: Any) -> Any:
    """Point the spec's local refs (``#/components/...``) at the registered document."""
    if isinstance(schema, dict):
        return {
            key: (SPEC_URI + value if key == "$ref" and value.startswith("#") else _rebase(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rebase(item) for item in schema]
    return schema


def validator_for(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    """A Draft 2020-12 validator (with formats) for a schema taken from the spec."""
    return jsonschema.Draft202012Validator(
        _rebase(schema),
        registry=_registry(),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


@functools.cache
def body_validator(
    operation_id: str, direction: str, media_type: str, status: str = ""
) -> jsonschema.protocols.Validator:
    """The validator of a request body, or of the response body for ``status``."""
    media = operations()[operation_id].media(direction, media_type, status)
    if media is None:
        raise KeyError(f"{operation_id} has no {direction} {status} {media_type} body")
    return validator_for(media["schema"])


def xsd_paths(operation_id: str, direction: str, status: str = "") -> list[str]:
    """The XSD elements an XML body of this operation may be (the spec's x-xsd-element)."""
    media = operations()[operation_id].media(direction, "application/xml", status)
    if media is None:
        return []
    paths = media.get("x-xsd-element", [])
    return [paths] if isinstance(paths, str) else list(paths)


def failed_keywords(validator: jsonschema.protocols.Validator, value: Any) -> set[str]:
    """Every JSON Schema keyword that fails for ``value``, nested ones included; empty if valid."""
    keywords: set[str] = set()
    pending = list(validator.iter_errors(value))
    while pending:
        error = pending.pop()
        keywords.add(str(error.validator))
        pending.extend(error.context or [])
    return keywords


@functools.cache
def declared_parameters(operation_id: str, location: str) -> tuple[tuple[str, bool, Any], ...]:
    """(name, required, validator) of an operation's parameters in ``location`` (query, header)."""
    found = []
    for parameter in operations()[operation_id].definition.get("parameters", []):
        if "$ref" in parameter:
            parameter = resolve(parameter["$ref"])
        if parameter["in"] == location:
            found.append(
                (parameter["name"], parameter.get("required", False), validator_for(parameter["schema"]))
            )
    return tuple(found)


def parameter_problems(operation_id: str, location: str, values: Any) -> list[str]:
    """What is wrong with the given query or header values for the operation, if anything.

    ``values`` maps names to strings (case-insensitively for headers, as HTTP has it).
    """
    problems = []
    lookup = {str(k).lower(): v for k, v in values.items()} if location == "header" else dict(values)
    for name, required, validator in declared_parameters(operation_id, location):
        value = lookup.get(name.lower() if location == "header" else name)
        if value is None:
            if required:
                problems.append(f"{location} parameter {name} is required")
        elif not validator.is_valid(value):
            problems.append(f"{location} parameter {name} has an invalid value")
    return problems
