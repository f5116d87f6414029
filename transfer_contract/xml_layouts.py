"""One XML document, laid out the ways real XML writers and hand-written clients lay it out.

Every layout means the same document to any XML 1.0 processor, so a target must treat them
alike (rule xml-json-equivalent). Where they come from:

- ``plain``: ElementTree's ``tostring``, no declaration.
- ``declared``: JAXB's marshaller: a double-quoted declaration with ``standalone="yes"``.
- ``python-declared``: ElementTree with ``xml_declaration=True``: single-quoted, lower-case
  ``utf-8``, a newline after it.
- ``pretty``: lxml's ``pretty_print`` and .NET's ``XmlWriterSettings.Indent``: elements on
  their own lines, two-space indent, text content untouched.
- ``crlf``: the pretty layout with Windows line ends between elements.
- ``bom``: .NET's ``Encoding.UTF8`` writes a byte-order mark before the declaration.
- ``ascii``: writers asked for US-ASCII turn every other character into a numeric reference.
- ``cdata``: hand-written templates wrap the text in a CDATA section (used only where that
  means the same: no ``]]>`` and no carriage return, which XML would turn into a line feed).
- ``entities``: writers that escape quotes in text too (``&quot;``, ``&apos;``).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

LAYOUTS = ("plain", "declared", "python-declared", "pretty", "crlf", "bom", "ascii", "cdata", "entities")


def _text(value: str, layout: str) -> str:
    if layout == "cdata" and "]]>" not in value and "\r" not in value and value:
        return f"<![CDATA[{value}]]>"
    entities = {"\r": "&#13;"}
    if layout == "entities":
        entities.update({'"': "&quot;", "'": "&apos;"})
    text = escape(value, entities)
    if layout == "ascii":
        text = "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in text)
    return text


def _attribute(value: str, layout: str) -> str:
    quoted = escape(value, {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"})
    if layout == "ascii":
        quoted = "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in quoted)
    return f'"{quoted}"'


def _element(name: str, value: Any, layout: str, depth: int, newline: str) -> str:
    indent = newline + "  " * depth if newline else ""
    if not isinstance(value, dict):
        return f"{indent}<{name}>{_text('' if value is None else str(value), layout)}</{name}>"
    attributes = "".join(
        f" {key[1:]}={_attribute(str(child), layout)}" for key, child in value.items() if key.startswith("@")
    )
    children = [
        _element(key, item, layout, depth + 1, newline)
        for key, child in value.items()
        if not key.startswith("@")
        for item in (child if isinstance(child, list) else [child])
    ]
    if not children:
        return f"{indent}<{name}{attributes}/>"
    closing = indent if newline else ""
    return f"{indent}<{name}{attributes}>{''.join(children)}{closing}</{name}>"


def render_layout(root: str, value: Any, layout: str) -> bytes:
    """``{root: value}`` (the API's JSON convention) as an XML document in ``layout``."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown XML layout {layout!r}; known: {', '.join(LAYOUTS)}")
    newline = {"pretty": "\n", "crlf": "\r\n"}.get(layout, "")
    body = _element(root, value, layout, 0, newline).lstrip("\r\n")
    if layout == "declared":
        return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{body}'.encode()
    if layout == "python-declared":
        return f"<?xml version='1.0' encoding='utf-8'?>\n{body}".encode()
    if layout == "bom":
        return b"\xef\xbb\xbf" + f'<?xml version="1.0" encoding="utf-8"?>{body}'.encode()
    return body.encode("utf-8")
