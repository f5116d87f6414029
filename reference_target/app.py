"""The reference target's ASGI app: the documented routes bound to one world, the errors of
routing answered in the error envelope, and the HTTP conventions around them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reference_target.conventions import (
    PathConventions,
    error_response,
)
from reference_target.handlers import (
    Handler,
    agent_chat,
    agent_chats,
    agent_events,
    agent_info,
    availability,
    available_agents,
    chat_sessions,
    incoming_requests,
    login,
    logout,
    reference_state,
    refresh,
    request_chat,
    root,
    start_session,
    transfer,
    visitor_availability,
    visitor_chat,
    visitor_events,
)
from reference_target.state import (
    ApiError,
    World,
)


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
        Route(account + "/refresh", bind(refresh), methods=["POST"]),
        Route(account + "/agentSession", bind(start_session), methods=["POST"]),
        Route(session + "/availability", bind(availability), methods=["GET", "PUT", "POST", "DELETE"]),
        Route(session + "/availableAgents", bind(available_agents), methods=["GET"]),
        Route(session + "/incomingRequests", bind(incoming_requests), methods=["GET", "POST"]),
        Route(session + "/info", bind(agent_info), methods=["GET"]),
        Route(session + "/chatSessions", bind(chat_sessions), methods=["GET"]),
        Route(session + "/chat", bind(agent_chats), methods=["GET"]),
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
        # The last resort must not fail itself: the envelope in JSON, whatever the request.
        body = b'{"error": {"message": "internal error", "internalCode": 99}}'
        return Response(body, 500, media_type="application/json")

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.add_middleware(PathConventions)
    return app
