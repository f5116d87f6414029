"""The documented calls: one handler per operation, on top of the conventions and views.

Request bodies are validated against the same OpenAPI schemas the suite reads, and XML ones
against the XSD, so the simulator accepts exactly what the spec describes.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from reference_target.conventions import (
    agent_chat_url,
    bearer_of,
    calling_agent,
    check_account,
    check_app_key,
    check_query,
    link,
    parse_body,
    read_body,
    render,
    response_format,
    session_url,
    visitor_chat_url,
)
from reference_target.faults import FaultName
from reference_target.state import (
    AVAILABILITY_STATES,
    STATE_CODES,
    ApiError,
    Chat,
    World,
)
from reference_target.views import chat_view, events_view, first_event

Handler = Callable[[Request, World], Awaitable[Response]]


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
    cookie, csrf = world.session_cookie_of(token)
    # Clients read their domains from here: each service's host on this server.
    hosts = {"agentVep": request.url.netloc, "conversationVep": request.url.netloc, **world.service_hosts}
    answer = JSONResponse(
        {
            "csrf": csrf,
            "wsuk": secrets.token_hex(8),
            "config": {
                "loginName": agent.username,
                "userId": agent.id,
                "userPrivileges": [1, 2, 3],
                "serverCurrentTime": int(time.time() * 1000),
                "timeDiff": 0,
                "serverTimeZoneName": "UTC",
                "serverTimeGMTDiff": 0,
                "isLPA": False,
                "isAdmin": False,
                "accountTimeZoneId": "UTC",
            },
            "csdsCollectionResponse": {
                "baseURIs": [
                    {"account": world.account_id, "baseURI": host, "service": service}
                    for service, host in hosts.items()
                ]
            },
            "accountData": {
                "agentGroupsData": {
                    "items": [{"id": -1, "deleted": False, "name": "Main Group"}],
                    "revision": 1,
                }
            },
            "sessionTTl": "28800000",
            "bearer": token,
        }
    )
    answer.set_cookie("Session_id", cookie, path="/", httponly=True)
    return answer


async def _login_of(request: Request, world: World, operation_id: str) -> str:
    """The login a refresh or logout is for: by the documented Session_id cookie and csrf
    body, else by the bearer (decision-logout-by-bearer)."""
    check_account(request, world)
    cookie = request.cookies.get("Session_id")
    if cookie is None:
        token = bearer_of(request) or ""
        world.agent_for_bearer(token)
        await read_body(request, world)
        return token
    body, _ = await parse_body(request, world, operation_id, required=False)
    return world.login_of_cookie(cookie, str((body or {}).get("csrf") or ""))


async def logout(request: Request, world: World) -> Response:
    world.logout(await _login_of(request, world, "agentLogout"))
    return Response(status_code=200)


async def refresh(request: Request, world: World) -> Response:
    world.agent_for_bearer(await _login_of(request, world, "agentRefresh"))
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
            "email": f"{agent.username}@agents.invalid",
            "privilegeGroup": "Agent",
        }
        if agent.skills:
            entry["skills"] = {"skill": world.dialect.collapse(list(agent.skills))}
        # As the docs' example: `chats` only for an agent that holds some (a real client reads
        # a missing `chats` as none, and one written from the example skips agents carrying it).
        if agent.chats:
            entry["chats"] = str(len(agent.chats))
        entries.append(entry)
    agents = {"agent": world.dialect.collapse(entries)} if entries else {}
    # The documented list carries a next link; every agent fits in one page here.
    session, _ = _session(request, world, "getAvailableAgents")
    more = link(
        f"{session_url(request, world, session.id)}/availableAgents?v=1&NC=true&offset={len(entries)}", "next"
    )
    return render(request, 200, {"availableAgents": {"link": more, "agents": agents}})


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


async def agent_info(request: Request, world: World) -> Response:
    session, owner = _session(request, world, "getAgentInfo")
    dialect = world.dialect
    skills = [
        {"id": dialect.number(skill, "str"), "name": world.skill_names[skill]} for skill in owner.skills
    ]
    info = {
        "link": link(f"{session_url(request, world, session.id)}/info", "self"),
        "agentName": owner.nickname,
        "displayName": owner.nickname,
        "loginName": owner.username,
        "id": dialect.number(owner.id, "str"),
        "maxChats": dialect.number(owner.max_chats, "str"),
        "availability": {"chat": owner.availability, "voice": "Offline"},
        "skillsInfo": {"skillInfo": dialect.collapse(skills)} if skills else {},
    }
    return render(request, 200, {"info": info})


async def chat_sessions(request: Request, world: World) -> Response:
    """The chats the agent holds now, oldest taken first (Retrieve Chat Sessions)."""
    session, owner = _session(request, world, "getChatSessions")
    held = sorted((world.chats[chat_id] for chat_id in owner.chats), key=lambda chat: chat.taken_order)
    entries = [
        {
            "link": link(agent_chat_url(request, world, session.id, chat.id), "chat-session"),
            "chatSessionKey": chat.id,
            "startTime": world.dialect.number(chat.started_ms, "int"),
        }
        for chat in held
    ]
    return render(
        request, 200, {"chatSessions": {"chatSession": world.dialect.collapse(entries)} if entries else {}}
    )


async def agent_chats(request: Request, world: World) -> Response:
    """Several chats of the session in one read; a key that is not a chat of this session
    answers 404, as a read of that chat alone does."""
    session, owner = _session(request, world, "getAgentChats")
    keys = request.query_params["chatSessionKeys"].split(",")
    # One first event id per key, in order; a key without one reads from the start.
    starts = [int(value) for value in request.query_params.get("fromEventIds", "").split(",") if value]
    views = []
    for index, key in enumerate(keys):
        chat = world.agent_chat(owner, key, read=True)
        url = agent_chat_url(request, world, session.id, chat.id)
        start = starts[index] if index < len(starts) else 0
        views.append(chat_view(world, chat, url, start, for_agent=True)["chat"])
    return render(request, 200, {"chats": {"chat": world.dialect.collapse(views)}})


async def agent_chat(request: Request, world: World) -> Response:
    session, owner = _session(request, world, "getAgentChat")
    start = first_event(request)
    chat = world.agent_chat(owner, request.path_params["chatId"], read=True)
    url = agent_chat_url(request, world, session.id, chat.id)
    return render(request, 200, chat_view(world, chat, url, start, for_agent=True))


async def agent_events(request: Request, world: World) -> Response:
    operation = "getAgentChatEvents" if request.method == "GET" else "addAgentChatEvent"
    session, owner = _session(request, world, operation)
    if request.method == "GET":
        start = first_event(request)
        chat = world.agent_chat(owner, request.path_params["chatId"], read=True)
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
    world.unowned_transfer(owner, chat_id)
    world.agent_chat(owner, chat_id)
    try:
        body, is_xml = await parse_body(request, world, "transferChat")
    except ApiError:
        if FaultName.NEITHER_ACCEPTED in world.faults and _names_neither(request):
            return Response(status_code=200)
        raise
    assert body is not None
    order = body["transfer"]
    refuses_strings = not world.dialect.string_ids_accepted or FaultName.STRING_IDS_REFUSED in world.faults
    if (
        not is_xml
        and refuses_strings
        and any(isinstance((order.get(key) or {}).get("id"), str) for key in ("agent", "skill"))
    ):
        raise ApiError(400, "agent and skill ids are numbers", 63)
    text = order["text"] if "text" in order else body.get("text", "")
    later_hop = world.agent_chat(owner, chat_id).transfers >= 1
    if FaultName.DOUBLE_TRANSFER_RACE in world.faults or (
        later_hop and FaultName.CONCURRENT_HOP_RACE in world.faults
    ):
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
