"""HTTP layer of the reference target: routing, both encodings, auth, limits and error bodies.

Request bodies are validated against the same OpenAPI schemas the suite reads, and XML ones
against the XSD, so the simulator accepts exactly what the spec describes.
"""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as plain_et
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import xmlschema
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from reference_target.dialect import OAUTH_REJECTED
from reference_target.faults import FaultName
from reference_target.state import (
    AVAILABILITY_STATES,
    STATE_CODES,
    ApiError,
    Chat,
    Event,
    World,
    now_iso,
)
from transfer_contract.spec import body_validator, parameter_problems
from transfer_contract.xmlcodec import XmlBodyError, normalise_transfer, render_body_xml, xsd_codec

Handler = Callable[[Request, World], Awaitable[Response]]


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
    suffix = request.state.suffix_format
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
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"malformed JSON: {exc}", 52) from None
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


# ---------------------------------------------------------------------- views
EVENT_FIELDS = {
    "reference": ("state", "text", "textType", "by", "source", "systemMessageId", "subType"),
    # The order of the pages' JSON examples (api-facts §7.2).
    "docs": ("time", "state", "textType", "text", "by", "source", "systemMessageId", "subType"),
}


def event_view(world: World, event: Event) -> dict[str, Any]:
    dialect = world.dialect
    view: dict[str, Any] = {"@id": dialect.number(event.id, "str"), "@type": event.type}
    known = {**event.fields, "time": event.time}
    if "systemMessageId" in known:
        known["systemMessageId"] = dialect.number(known["systemMessageId"], "int")
    order = EVENT_FIELDS[dialect.event_order]
    if "time" not in order:
        view["time"] = event.time
    for key in order:
        if key in known:
            view[key] = known[key]
    return dialect.extra(view, **{"@sequence": str(event.id)}, tcOrigin="reference-variant")


def first_event(request: Request) -> int:
    value = request.query_params.get("from", "0")
    if not value.isdigit() or len(value) > 9:
        raise ApiError(400, "from must be an event id", 58)
    return int(value)


def events_view(world: World, chat: Chat, chat_url: str, start: int, for_agent: bool) -> dict[str, Any]:
    visible = [event_view(world, e) for e in chat.events[start:] if for_agent or not e.agents_only]
    view: dict[str, Any] = {
        "link": [
            link(f"{chat_url}/events?from={start}", "self"),
            link(f"{chat_url}/events?from={len(chat.events)}", "next"),
        ]
    }
    if visible:
        view["event"] = world.dialect.collapse(visible)
    return view


def chat_view(world: World, chat: Chat, chat_url: str, start: int, for_agent: bool) -> dict[str, Any]:
    links = [
        link(chat_url, "self"),
        link(f"{chat_url}/events", "events"),
        link(f"{chat_url}?from={len(chat.events)}", "next"),
    ]
    if for_agent:
        links.append(link(f"{chat_url}/transfer", "transfer"))
    info: dict[str, Any] = {
        "state": chat.state,
        "chatSessionKey": chat.id,
        "skillName": world.skill_names[chat.skill_id],
        "skillId": world.dialect.number(chat.skill_id, "str"),
    }
    if chat.holder is not None:
        holder = world.agents[chat.holder]
        info["agentName"] = holder.nickname
        info["agentId"] = world.dialect.number(holder.id, "str")
    info.update(
        startTime=chat.started,
        lastUpdate=chat.events[-1].time,
        chatTimeout=40,
        visitorName="visitor" if for_agent else "You",
    )
    info = world.dialect.extra(info, rtSessionId=str(zlib.crc32(chat.id.encode())), agentTyping="not-typing")
    return {
        "chat": {
            "link": links,
            "events": events_view(world, chat, chat_url, start, for_agent),
            "info": info,
        }
    }


# ---------------------------------------------------------------------- handlers
async def root(request: Request, world: World) -> Response:
    return PlainTextResponse("transfer-conformance reference target\n")


async def reference_state(request: Request, world: World) -> Response:
    """Reference-only (not part of the documented API, never used by the suite)."""
    return JSONResponse({"referenceOnly": True, **world.summary()})


async def login(request: Request, world: World) -> Response:
    check_account(request, world)
    check_query(request, "agentLogin")
    body, is_xml = await parse_body(request, world, "agentLogin")
    if is_xml:
        raise ApiError(415, "login takes a JSON body", 54)
    assert body is not None
    token, agent = world.login(body["username"], body["password"])
    return JSONResponse(
        {
            "csrf": token[:16],
            "config": {"userId": agent.id, "loginName": agent.username},
            "sessionTTl": "28800000",
            "bearer": token,
        }
    )


async def logout(request: Request, world: World) -> Response:
    check_account(request, world)
    world.agent_for_bearer(bearer_of(request))
    world.logout(bearer_of(request) or "")
    return Response(status_code=200)


async def start_session(request: Request, world: World) -> Response:
    check_account(request, world)
    check_query(request, "startAgentSession")
    agent = world.agent_for_bearer(bearer_of(request))
    await parse_body(request, world, "startAgentSession")
    session = world.start_session(agent)
    url = session_url(request, world, session.id)
    location = (
        url.replace("127.0.0.1", "elsewhere.invalid")
        if FaultName.SESSION_LOCATION_FOREIGN in world.faults
        else url
    )
    return render(request, 201, {"agentSessionLocation": {"link": link(url, "location")}}, location)


def _session(request: Request, world: World, operation_id: str) -> tuple[Any, Any]:
    check_account(request, world)
    check_query(request, operation_id)
    agent = calling_agent(request, world)
    return world.session_for(request.path_params["agentSessionId"], agent)


def _availability_body(world: World, state: str) -> dict[str, Any]:
    return {"availability": {"chat": state, "voice": "Offline"}}


async def availability(request: Request, world: World) -> Response:
    if request.method not in ("GET", "PUT"):
        # The documented form is POST with the override header; without it the request lacks
        # a required header, which is a client error of the request, not of the method.
        raise ApiError(400, "send the change as POST with X-HTTP-Method-Override: PUT", 59)
    if request.method == "GET":
        _, owner = _session(request, world, "getAvailability")
        return render(request, 200, _availability_body(world, owner.availability))
    _, owner = _session(request, world, "setAvailability")
    body, _ = await parse_body(request, world, "setAvailability")
    assert body is not None
    state = body["availability"]["chat"]
    if state not in AVAILABILITY_STATES:
        raise ApiError(400, f"unknown availability {state}", 60)
    world.set_availability(owner, state)
    return render(request, 200, _availability_body(world, state))


async def available_agents(request: Request, world: World) -> Response:
    _session(request, world, "getAvailableAgents")
    skill_name = request.query_params.get("skill")
    wanted_state = request.query_params.get("chatState")
    if wanted_state is not None and wanted_state not in (*AVAILABILITY_STATES, "Offline"):
        raise ApiError(400, f"unknown chatState {wanted_state}", 61)
    entries = []
    for agent in world.agents.values():
        state = world.chat_state_of(agent)
        if wanted_state is not None and state != wanted_state:
            continue
        if skill_name is not None and world.skill_by_name.get(skill_name) not in agent.skills:
            continue
        entry: dict[str, Any] = {
            "@id": agent.id,
            "@chatState": STATE_CODES[state],
            "@maxChats": str(agent.max_chats),
            "@voiceState": STATE_CODES["Offline"],
            "userName": agent.username,
            "nickname": agent.nickname,
        }
        if agent.skills:
            entry["skills"] = {"skill": world.dialect.collapse(list(agent.skills))}
        entry["chats"] = str(len(agent.chats))
        entries.append(entry)
    agents = {"agent": world.dialect.collapse(entries)} if entries else {}
    return render(request, 200, {"availableAgents": {"agents": agents}})


async def incoming_requests(request: Request, world: World) -> Response:
    if request.method == "GET":
        session, owner = _session(request, world, "getIncomingRequests")
        count = len(world.ringing_for(owner))
        view: dict[str, Any] = {"ringingCount": world.dialect.number(count, "str")}
        if count:
            view["link"] = link(f"{session_url(request, world, session.id)}/incomingRequests", "accept")
        return render(request, 200, {"incomingRequests": view})
    session, owner = _session(request, world, "takeChat")
    # "{}" for backwards compatibility, in whatever media type or none: read (for the size
    # limit) and ignored, as the Accept Chat page and its clients have it.
    await read_body(request, world)
    chat = world.take(owner)
    url = agent_chat_url(request, world, session.id, chat.id)
    return render(request, 201, {"chatLocation": {"link": link(url, "location")}}, url)


async def agent_chat(request: Request, world: World) -> Response:
    session, owner = _session(request, world, "getAgentChat")
    start = first_event(request)
    chat = world.agent_chat(owner, request.path_params["chatId"])
    url = agent_chat_url(request, world, session.id, chat.id)
    return render(request, 200, chat_view(world, chat, url, start, for_agent=True))


async def agent_events(request: Request, world: World) -> Response:
    operation = "getAgentChatEvents" if request.method == "GET" else "addAgentChatEvent"
    session, owner = _session(request, world, operation)
    if request.method == "GET":
        start = first_event(request)
        chat = world.agent_chat(owner, request.path_params["chatId"])
        url = agent_chat_url(request, world, session.id, chat.id)
        return render(request, 200, {"events": events_view(world, chat, url, start, for_agent=True)})
    world.agent_chat(owner, request.path_params["chatId"])
    body, _ = await parse_body(request, world, "addAgentChatEvent")
    assert body is not None
    # Looked up again after the body arrived: the chat may have moved meanwhile.
    chat = world.agent_chat(owner, request.path_params["chatId"])
    url = agent_chat_url(request, world, session.id, chat.id)
    event = body["event"]
    if event["@type"] == "state":
        added = world.end_chat(chat)
        href = f"{url}/events/{added.id}"
        return render(request, 201, {"chatLocation": {"link": link(href, "location")}}, href)
    added = world.add_line(chat, "agent", owner.nickname, event)
    href = f"{url}/events/{added.id}"
    return render(request, 201, {"chatEventLocation": {"link": link(href, "location")}}, href)


def _names_neither(request: Request) -> bool:
    """For the neither_accepted fault: a JSON body whose transfer names no agent or skill."""
    try:
        order = json.loads(request.state.raw_body).get("transfer")
    except (ValueError, AttributeError):
        return False
    return isinstance(order, dict) and "agent" not in order and "skill" not in order


def _numeric_id(ref: dict[str, Any] | None) -> str | None:
    return None if ref is None else str(int(ref["id"]))


async def transfer(request: Request, world: World) -> Response:
    operation = "getAvailableSkills" if request.method == "GET" else "transferChat"
    _, owner = _session(request, world, operation)
    chat_id = request.path_params["chatId"]
    if request.method == "GET":
        chat = world.agent_chat(owner, chat_id)
        world.check_transferable(chat)
        dialect = world.dialect
        skills = [
            dialect.extra(
                {
                    "id": dialect.number(skill_id, "str"),
                    "name": name,
                    "onlineAgents": dialect.number(count, "str"),
                },
                description=f"skill {name}",
            )
            for skill_id, name, count in world.available_skills(chat)
        ]
        if FaultName.XML_SKILLS_LIST_DROPS_LAST in world.faults and response_format(request) == "xml":
            skills = skills[:-1]
        return render(request, 200, {"transfer": {"skill": dialect.collapse(skills)} if skills else {}})
    world.agent_chat(owner, chat_id)
    try:
        body, is_xml = await parse_body(request, world, "transferChat")
    except ApiError:
        if FaultName.NEITHER_ACCEPTED in world.faults and _names_neither(request):
            return Response(status_code=200)
        raise
    assert body is not None
    order = body["transfer"]
    if not (is_xml or world.dialect.string_ids_accepted) and any(
        isinstance((order.get(key) or {}).get("id"), str) for key in ("agent", "skill")
    ):
        raise ApiError(400, "agent and skill ids are numbers", 63)
    text = order["text"] if "text" in order else body.get("text", "")
    if FaultName.DOUBLE_TRANSFER_RACE in world.faults:
        chat = world.agent_chat(owner, chat_id)
        # The regression: a round trip to storage (50 ms) between the ownership check and the
        # write, wide enough that two concurrent requests overlap even on a loaded machine.
        await asyncio.sleep(0.05)
    else:
        chat = world.agent_chat(owner, chat_id)
    world.transfer(
        chat,
        owner,
        _numeric_id(order.get("agent")),
        _numeric_id(order.get("skill")),
        text or "",
        is_xml,
    )
    status = 201 if FaultName.TRANSFER_STATUS_201 in world.faults else 200
    return Response(status_code=status)


async def visitor_availability(request: Request, world: World) -> Response:
    check_account(request, world)
    check_query(request, "getVisitorAvailability")
    check_app_key(request, world)
    available = world.skill_available_to_visitor(request.query_params.get("skill"))
    if response_format(request) == "xml":
        body = b"<availability>" + (b"true" if available else b"false") + b"</availability>"
        return Response(body, 200, media_type="application/xml")
    return render(request, 200, {"availability": available})


async def request_chat(request: Request, world: World) -> Response:
    check_account(request, world)
    check_query(request, "requestChat")
    check_app_key(request, world)
    body, _ = await parse_body(request, world, "requestChat")
    assert body is not None
    chat = world.request_chat(body["request"]["skill"])
    return render(request, 201, None, visitor_chat_url(request, world, chat.id))


def _visitor(request: Request, world: World, operation_id: str) -> Chat:
    check_account(request, world)
    check_query(request, operation_id)
    check_app_key(request, world)
    return world.visitor_chat(request.path_params["chatId"])


async def visitor_chat(request: Request, world: World) -> Response:
    chat = _visitor(request, world, "getVisitorChat")
    start = first_event(request)
    url = visitor_chat_url(request, world, chat.id)
    return render(request, 200, chat_view(world, chat, url, start, for_agent=False))


async def visitor_events(request: Request, world: World) -> Response:
    operation = "getVisitorChatEvents" if request.method == "GET" else "addVisitorChatEvent"
    chat = _visitor(request, world, operation)
    url = visitor_chat_url(request, world, chat.id)
    if request.method == "GET":
        start = first_event(request)
        return render(request, 200, {"events": events_view(world, chat, url, start, for_agent=False)})
    body, _ = await parse_body(request, world, "addVisitorChatEvent")
    assert body is not None
    chat = world.visitor_chat(chat.id)
    event = body["event"]
    if event["@type"] == "state":
        added = world.end_chat(chat)
    else:
        # A visitor cannot hide a line from itself: subType is ignored on visitor lines.
        added = world.add_line(chat, "visitor", "visitor", {**event, "subType": "REGULAR"})
    return render(request, 201, None, f"{url}/events/{added.id}")


# ---------------------------------------------------------------------- assembly
def create_app(world: World, part: str = "all") -> Starlette:
    """The app serving ``part`` of the API: all of it ("all"), or the agent side with login
    ("agent") or the visitor side ("visitor") when the visitor API has a host of its own."""

    def bind(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            world.sweep()
            try:
                return await handler(request, world)
            except ApiError as error:
                return error_response(request, world, error)

        return endpoint

    account = "/api/account/{accountId}"
    session = account + "/agentSession/{agentSessionId}"
    chat = session + "/chat/{chatId}"
    common = [
        Route("/", bind(root), methods=["GET"]),
        Route("/_reference/state", bind(reference_state), methods=["GET"]),
    ]
    agent_side = [
        Route(account + "/login", bind(login), methods=["POST"]),
        Route(account + "/logout", bind(logout), methods=["POST"]),
        Route(account + "/agentSession", bind(start_session), methods=["POST"]),
        Route(session + "/availability", bind(availability), methods=["GET", "PUT", "POST", "DELETE"]),
        Route(session + "/availableAgents", bind(available_agents), methods=["GET"]),
        Route(session + "/incomingRequests", bind(incoming_requests), methods=["GET", "POST"]),
        Route(chat, bind(agent_chat), methods=["GET"]),
        Route(chat + "/events", bind(agent_events), methods=["GET", "POST"]),
        Route(chat + "/transfer", bind(transfer), methods=["GET", "POST"]),
    ]
    visitor_side = [
        Route(account + "/chat/availability", bind(visitor_availability), methods=["GET"]),
        Route(account + "/chat/request", bind(request_chat), methods=["POST"]),
        Route(account + "/chat/{chatId}", bind(visitor_chat), methods=["GET"]),
        Route(account + "/chat/{chatId}/events", bind(visitor_events), methods=["GET", "POST"]),
    ]

    routes = common + (visitor_side if part == "visitor" else agent_side)
    if part == "all":
        routes += visitor_side

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = "no such resource" if exc.status_code == 404 else str(exc.detail)
        # A 405 names the allowed methods (RFC 9110), as Starlette computed them.
        return error_response(request, world, ApiError(exc.status_code, message, 90), exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(request, world, ApiError(500, "internal error", 99))

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.add_middleware(PathConventions)
    return app
