"""The resources as the API shows them (chat, events, event), in the API's JSON convention and
the instance's dialect."""

from __future__ import annotations

import zlib
from typing import Any

from starlette.requests import Request

from reference_target.conventions import (
    link,
)
from reference_target.state import (
    ApiError,
    Chat,
    Event,
    World,
)

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
    # A dialect may page events: then `next` leads to the rest, not only to what comes later.
    size = world.dialect.events_page_size
    end = min(len(chat.events), start + size) if size else len(chat.events)
    shown = chat.events[start:end]
    visible = [event_view(world, e) for e in shown if for_agent or not e.agents_only]
    view: dict[str, Any] = {
        "link": [
            link(f"{chat_url}/events?from={start}", "self"),
            link(f"{chat_url}/events?from={max(end, start)}", "next"),
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
