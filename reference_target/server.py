"""Start the reference target: standalone (`serve`) or as a subprocess on an ephemeral port.

A subprocess rather than a thread: the suite's client and the server then do not share one
interpreter (measured faster; see README "Benchmarks").
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import uvicorn
import uvloop
from starlette.applications import Starlette

from reference_target.app import create_app
from reference_target.embedded import READY_PREFIX, VISITOR_MARK
from reference_target.faults import FaultName
from reference_target.seed import DEFAULT_SEED, build_world, load_seed


def _listen(host: str, port: int) -> tuple[socket.socket, str]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    return sock, f"http://{shown_host}:{sock.getsockname()[1]}"


def _server(app: Starlette) -> uvicorn.Server:
    config = uvicorn.Config(
        app, loop="uvloop", http="httptools", log_level="warning", access_log=False, lifespan="off"
    )
    return uvicorn.Server(config)


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    faults: frozenset[FaultName] = frozenset(),
    seed_path: Path = DEFAULT_SEED,
    visitor_port: int | None = None,
) -> None:
    """Bind, announce the URL(s) on stdout, and serve until interrupted.

    With ``visitor_port`` (or a seed whose dialect has separate_visitor_host: a port the OS
    picks) the visitor API listens on a host of its own and the main one serves the agent side
    and login only, as LivePerson's agentVep and conversationVep services are apart.
    """
    world = build_world(load_seed(seed_path), faults)
    if visitor_port is None and world.dialect.separate_visitor_host:
        visitor_port = 0
    sock, url = _listen(host, port)
    if visitor_port is None:
        # The socket already listens, so a client that reads this line can connect at once.
        print(f"{READY_PREFIX}{url}", flush=True)
        _server(create_app(world)).run(sockets=[sock])
        return
    visitor_sock, visitor_url = _listen(host, visitor_port)
    world.service_hosts = {
        "agentVep": url.split("://", 1)[1],
        "conversationVep": visitor_url.split("://", 1)[1],
    }
    print(f"{READY_PREFIX}{url}{VISITOR_MARK}{visitor_url}", flush=True)
    apps = ((create_app(world, "agent"), sock), (create_app(world, "visitor"), visitor_sock))

    async def both() -> None:
        # One event loop for both hosts: the world stays single-threaded, each call atomic.
        await asyncio.gather(*(_server(app).serve(sockets=[s]) for app, s in apps))

    uvloop.run(both())
