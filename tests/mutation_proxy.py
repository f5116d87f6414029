"""A proxy between the suite and the reference that plants regressions the catalogue does not
have, to show the properties are not tuned to the catalogue. Test helper only.

Run in a thread on 127.0.0.1 and a port the OS picks; forwards the Host header so that the
reference builds its links and Location headers for the proxy.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections.abc import Callable

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Mutation = Callable[[str, str, bytes, int, bytes], tuple[bytes, int, bytes]]


def _json_edit(data: bytes, edit: Callable[[dict], None]) -> bytes:
    try:
        value = json.loads(data)
    except ValueError:
        return data
    edit(value)
    return json.dumps(value).encode()


def drop_transfer_text(method, path, body, status, answer):
    """Requests: the transfer text never reaches the target."""
    if method == "POST" and path.endswith("/transfer"):
        body = _json_edit(body, lambda v: v.get("transfer", {}).pop("text", None))
        body = re.sub(rb"<text>.*?</text>", b"", body, flags=re.S)
    return body, status, answer


def refusals_become_ok(method, path, body, status, answer):
    """Responses: a refused transfer is reported as 200."""
    if method == "POST" and path.endswith("/transfer") and status == 400:
        return body, 200, b""
    return body, status, answer


def agent_messages_read_as_skill(method, path, body, status, answer):
    """Responses: system message 13 reads as 15 in every chat body."""
    if method == "GET" and "/chat/" in path:
        answer = answer.replace(b'"systemMessageId": 13', b'"systemMessageId": 15')
        answer = answer.replace(b"<systemMessageId>13<", b"<systemMessageId>15<")
    return body, status, answer


def agent_dropped_when_skill_named(method, path, body, status, answer):
    """Requests: a body naming both loses its agent."""
    if method == "POST" and path.endswith("/transfer"):

        def edit(value):
            order = value.get("transfer", {})
            if "skill" in order:
                order.pop("agent", None)

        body = _json_edit(body, edit)
        if b"<skill>" in body:
            body = re.sub(rb"<agent>.*?</agent>", b"", body, flags=re.S)
    return body, status, answer


def xml_counts_inflated(method, path, body, status, answer):
    """Responses: XML skills lists count one more online agent than JSON ones."""
    if method == "GET" and path.endswith("/transfer"):
        answer = re.sub(
            rb"<onlineAgents>(\d+)</onlineAgents>",
            lambda m: b"<onlineAgents>%d</onlineAgents>" % (int(m.group(1)) + 1),
            answer,
        )
    return body, status, answer


MUTATIONS: dict[str, tuple[Mutation, str]] = {
    "drop_transfer_text": (drop_transfer_text, "text-only-to-receiving-agent"),
    "refusals_become_ok": (refusals_become_ok, "unavailable-skill-rejected"),
    "agent_messages_read_as_skill": (agent_messages_read_as_skill, "transfer-system-message"),
    "agent_dropped_when_skill_named": (agent_dropped_when_skill_named, "agent-takes-precedence"),
    "xml_counts_inflated": (xml_counts_inflated, "xml-responses-match-json"),
}


class MutationProxy:
    def __init__(self, upstream: str, mutation: Mutation | None) -> None:
        self.upstream = upstream
        self.mutation = mutation
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        # One client for every forwarded request: a client made per request (its TLS context)
        # cost a run through the proxy more than the run itself.
        self.client: httpx.AsyncClient | None = None

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        if self.mutation:
            body, _, _ = self.mutation(request.method, path.removesuffix(".json"), body, 0, b"")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("content-length",)}
        assert self.client is not None
        answer = await self.client.request(
            request.method,
            f"{self.upstream}{path}",
            params=request.query_params,
            headers=headers,
            content=body,
        )
        status, content = answer.status_code, answer.content
        if self.mutation:
            _, status, content = self.mutation(request.method, path, body, status, content)
        passed = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
        }
        return Response(content, status, passed)

    def __enter__(self) -> MutationProxy:
        app = Starlette(
            routes=[Route("/{path:path}", self.forward, methods=["GET", "POST", "PUT", "DELETE"])]
        )
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.sock.listen(128)
        started = threading.Event()

        async def serve() -> None:
            assert self.server is not None
            async with httpx.AsyncClient() as client:
                self.client = client
                await self.server.serve(sockets=[self.sock])

        def run() -> None:
            loop = asyncio.new_event_loop()
            loop.call_soon(started.set)
            loop.run_until_complete(serve())

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
