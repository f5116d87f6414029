"""XML in the API's JSON convention: render a JSON-shaped value as XML, decode XML with the XSD.

The convention (api-facts §3): an XML attribute is a JSON key prefixed with ``@``, a repeated
element is a list (which may collapse to one object), a scalar is the element's text.
"""

from __future__ import annotations

import functools
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import defusedxml.ElementTree as safe_et
import xmlschema
from defusedxml import DefusedXmlException

from transfer_contract.paths import XSD


class XmlBodyError(ValueError):
    """An XML body that is not well formed, is hostile, or does not follow the XSD."""

    def __init__(self, reason: str, *, hostile: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hostile = hostile


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            if key.startswith("@"):
                element.set(key[1:], _text(child))
            elif isinstance(child, list):
                for item in child:
                    _fill(SubElement(element, key), item)
            else:
                _fill(SubElement(element, key), child)
    else:
        element.text = _text(value)


def render_xml(root: str, value: Any) -> bytes:
    """Render ``value`` (JSON convention) as an XML document whose root element is ``root``.

    Carriage returns are written as character references so that XML end-of-line
    normalisation does not turn them into line feeds: JSON and XML then carry the same text.
    """
    element = Element(root)
    _fill(element, value)
    body = tostring(element, encoding="unicode").replace("\r", "&#13;")
    return body.encode("utf-8")


def render_body_xml(body: dict[str, Any]) -> bytes:
    """Render a one-key JSON body ``{"root": value}`` as the XML document ``<root>…</root>``."""
    ((root, value),) = body.items()
    return render_xml(root, value)


class XsdCodec:
    """Validates and decodes XML bodies with specs/chat-agent-api.xsd."""

    def __init__(self, schema: xmlschema.XMLSchema11) -> None:
        self.schema = schema

    def parse(self, data: bytes | str) -> Element:
        """Parse without DTDs, entities or external references (defusedxml)."""
        try:
            return safe_et.fromstring(data, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise XmlBodyError(f"forbidden XML construct: {exc}", hostile=True) from None
        except safe_et.ParseError as exc:
            raise XmlBodyError(f"not well-formed XML: {exc}") from None

    def decode(self, data: bytes | str, xsd_path: str | None = None) -> dict[str, Any]:
        """Decode an XML document to its JSON-shaped dict, raising XmlBodyError when invalid.

        ``xsd_path`` names the XSD element to use (``/availableSkillsResponse/transfer``) where
        the root's name alone is ambiguous; by default the root element is looked up.
        """
        return self.decode_element(self.parse(data), xsd_path)

    def decode_element(self, element: Element, xsd_path: str | None = None) -> dict[str, Any]:
        """Decode a parsed element, as ``decode`` does a document."""
        root = element.tag
        if root.startswith("{"):
            raise XmlBodyError(f"root element {root} is in a namespace; this API's elements have none")
        if xsd_path and xsd_path.rsplit("/", 1)[-1] != root:
            raise XmlBodyError(f"root element <{root}> is not an element of the schema here")
        try:
            decoded = self.schema.to_dict(element, schema_path=xsd_path, preserve_root=True, keep_empty=True)
        except xmlschema.XMLSchemaValidationError as exc:
            raise XmlBodyError(f"{exc.reason or exc.message} at {exc.path}") from None
        except (xmlschema.XMLSchemaException, RecursionError, ValueError) as exc:
            raise XmlBodyError(f"not an element of this API: {str(exc)[:200]}") from None
        return decoded  # type: ignore[return-value]


# The XML forms of the transfer body's agent and skill (rule decision-xml-transfer-form): the
# transfer page lists them as "parameters in the XML body" and shows no XML.
TRANSFER_FORMS = {
    "element": "<skill><id>2</id></skill>",
    "text": "<skill>2</skill>",
    "attribute": '<skill id="2"/>',
}


def normalise_transfer(element: Element, form: str) -> Element:
    """A parsed <transfer> of ``form`` rewritten to the element form the XSD declares.

    A reference of another form than ``form`` is refused, as a target of one form would.
    """
    for ref in element:
        if ref.tag not in ("agent", "skill") or form == "element":
            continue
        children = list(ref)
        if form == "attribute":
            if children or (ref.text or "").strip() or set(ref.attrib) != {"id"}:
                raise XmlBodyError(f"<{ref.tag}> takes its id as an attribute here: {TRANSFER_FORMS[form]}")
            value = ref.attrib.pop("id")
        else:
            if children or ref.attrib:
                raise XmlBodyError(f"<{ref.tag}> takes its id as its text here: {TRANSFER_FORMS[form]}")
            value, ref.text = ref.text or "", None
        SubElement(ref, "id").text = value
    return element


@functools.cache
def xsd_codec() -> XsdCodec:
    """The project's XSD, compiled once per process."""
    return XsdCodec(xmlschema.XMLSchema11(str(XSD)))
