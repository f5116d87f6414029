"""HTTP conventions of the reference target: the path suffix and method override, the two
encodings, the error envelope, reading and checking bodies, queries, accounts and credentials,
and the URLs the target writes (always on the request's own host)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as plain_et
from typing import Any

import xmlschema
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_target.dialect import OAUTH_REJECTED
from reference_target.faults import FaultName
from reference_target.state import (
    ApiError,
    World,
    now_iso,
)
from transfer_contract.spec import body_validator, parameter_problems
from transfer_contract.xmlcodec import XmlBodyError, normalise_transfer, render_body_xml, xsd_codec


class PathConventions:
    """Routes `X.json` / `X.xml` like `X` (remembering the format) and applies
    X-HTTP-Method-Override to POSTs, as legacy clients rely on both."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            suffix_format = None
            for suffix in (".json", ".xml"):
                if path.endswith(suffix):
                    path, suffix_format = path[: -len(suffix)], suffix[1:]
            method = scope["method"]
            if method == "POST":
                for name, value in scope["headers"]:
                    if name == b"x-http-method-override":
                        override = value.decode("latin-1").strip().upper()
                        if override in ("PUT", "DELETE"):
                            method = override
            state = dict(scope.get("state") or {}, suffix_format=suffix_format)
            scope = dict(scope, path=path, raw_path=path.encode(), method=method, state=state)
        await self.app(scope, receive, send)


# ---------------------------------------------------------------------- encodings
def response_format(request: Request) -> str:
    # getattr: the 500 handler sees the request as it came, before PathConventions ran.
    suffix = getattr(request.state, "suffix_format", None)
    if suffix:
        return suffix
    accept = request.headers.get("accept", "").lower()
    json_at, xml_at = accept.find("json"), accept.find("xml")
    if xml_at >= 0 and (json_at < 0 or xml_at < json_at):
        return "xml"
    return "json"


def render(
    request: Request,
    status: int,
    body: dict[str, Any] | None = None,
    location: str | None = None,
) -> Response:
    headers = {"Location": location} if location else None
    if body is None:
        return Response(status_code=status, headers=headers)
    if response_format(request) == "xml":
        return Response(render_body_xml(body), status, headers, media_type="application/xml")
    return Response(
        json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status,
        headers,
        media_type="application/json",
    )


def error_response(
    request: Request, world: World, error: ApiError, headers: dict[str, str] | None = None
) -> Response:
    status = world.dialect.status_for(error.internal_code, error.status)
    if FaultName.ERROR_BODY_PLAIN_TEXT in world.faults:
        return PlainTextResponse(error.message, status, headers)
    if status == 401 and world.dialect.unauthorized_body == "form":
        return Response(OAUTH_REJECTED, 401, headers, media_type="application/x-www-form-urlencoded")
    body = {"error": {"time": now_iso(), "message": error.message, "internalCode": error.internal_code}}
    if FaultName.XML_ERROR_ROOT_RENAMED in world.faults and response_format(request) == "xml":
        body = {"fault": body["error"]}
    response = render(request, status, body)
    response.headers.update(headers or {})
    return response


def link(href: str, rel: str) -> dict[str, str]:
    return {"@href": href, "@rel": rel}


# ---------------------------------------------------------------------- request parsing
async def read_body(request: Request, world: World) -> bytes:
    limit = None if FaultName.NO_BODY_LIMIT in world.faults else world.limits.max_body_bytes
    declared = request.headers.get("content-length", "")
    if limit is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the body is larger than {limit} bytes", 50)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit is not None and size > limit:
            raise ApiError(413, f"the body is larger than {limit} bytes", 50)
        chunks.append(chunk)
    raw = b"".join(chunks)
    request.state.raw_body = raw
    return raw


def _decode_xml(raw: bytes, world: World, operation_id: str) -> dict[str, Any]:
    if FaultName.ENTITIES_EXPANDED in world.faults:
        # The regression: a parser that expands internal entities (expat never fetches
        # external ones, so nothing outside the body is read even here).
        try:
            element = plain_et.fromstring(raw)
            return xsd_codec().schema.to_dict(element, preserve_root=True, keep_empty=True)  # type: ignore[return-value]
        except (plain_et.ParseError, xmlschema.XMLSchemaValidationError) as exc:
            raise XmlBodyError(str(exc)) from None
    codec = xsd_codec()
    element = codec.parse(raw)
    if operation_id == "transferChat" and element.tag == "transfer":
        element = normalise_transfer(element, world.dialect.xml_transfer_form)
    return codec.decode_element(element)


async def parse_body(
    request: Request, world: World, operation_id: str, required: bool = True
) -> tuple[dict[str, Any] | None, bool]:
    """The request body as a JSON-convention dict, checked against the spec; and whether it
    came as XML."""
    raw = await read_body(request, world)
    if not raw.strip():
        if required:
            raise ApiError(400, "a request body is required", 51)
        return None, False
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_xml = media in ("application/xml", "text/xml")
    if media == "application/json" or media.endswith("+json"):
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ApiError(400, f"malformed JSON: {str(exc)[:200]}", 52) from None
        problem = unreadable_json(body)
        if problem:
            raise ApiError(400, f"malformed JSON: {problem}", 52)
    elif is_xml:
        try:
            body = _decode_xml(raw, world, operation_id)
        except XmlBodyError as exc:
            raise ApiError(400, f"invalid XML body: {exc.reason}", 49 if exc.hostile else 53) from None
    else:
        raise ApiError(415, f"unsupported body media type {media or '(none)'}", 54)
    error = next(iter(_errors(operation_id, body)), None)
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "body"
        raise ApiError(400, f"invalid body at {where}: {error.message[:200]}", 55)
    return body, is_xml


def _errors(operation_id: str, body: Any) -> Any:
    return body_validator(operation_id, "request", "application/json").iter_errors(body)


MAX_DEPTH = 32


def unreadable_json(value: Any) -> str:
    """What makes a parsed JSON body unusable, if anything: nesting deeper than any documented
    body (validators recurse), or a lone surrogate (not Unicode text: it could not be written
    back out)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for pair in item.items() for child in pair)
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and any("\ud800" <= c <= "\udfff" for c in item):
            return "a string holds a lone surrogate"
    return ""


def check_query(request: Request, operation_id: str) -> None:
    """Query parameters as the spec declares them (v=1 required, NC, from, skill, ...).

    Unknown names are ignored, as clients add their own (Postman's cs=1); a nameless one
    (`?=x`) is a malformed query.
    """
    if "" in request.query_params:
        raise ApiError(400, "a query parameter has no name", 56)
    problems = parameter_problems(operation_id, "query", request.query_params)
    if problems:
        raise ApiError(400, problems[0], 56)


def check_account(request: Request, world: World) -> None:
    if request.path_params["accountId"] != world.account_id:
        raise ApiError(404, "account not found", 57)


def bearer_of(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def calling_agent(request: Request, world: World) -> Any:
    token = bearer_of(request)
    if (
        token is None
        and FaultName.MISSING_BEARER_ACCEPTED in world.faults
        and not request.headers.get("authorization")
    ):
        return None
    return world.agent_for_bearer(token)


def check_app_key(request: Request, world: World) -> None:
    key = request.query_params.get("appKey")
    if key is None:
        scheme, _, rest = request.headers.get("authorization", "").partition(" ")
        if scheme == "LivePerson" and rest.strip().startswith("appKey="):
            key = rest.strip().removeprefix("appKey=")
    if key != world.visitor_app_key:
        raise ApiError(401, "missing or unknown app key", 24)


# ---------------------------------------------------------------------- urls
def account_url(request: Request, world: World) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/account/{world.account_id}"


def session_url(request: Request, world: World, session_id: str) -> str:
    return f"{account_url(request, world)}/agentSession/{session_id}"


def agent_chat_url(request: Request, world: World, session_id: str, chat_id: str) -> str:
    return f"{session_url(request, world, session_id)}/chat/{chat_id}"


def visitor_chat_url(request: Request, world: World, chat_id: str) -> str:
    return f"{account_url(request, world)}/chat/{chat_id}"
