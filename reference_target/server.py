"""Start the reference target: standalone (`serve`) or as a subprocess on an ephemeral port.

A subprocess rather than a thread: the suite's client and the server then do not share one
interpreter (measured faster; see README "Benchmarks").
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

import uvicorn
import uvloop
from starlette.applications import Starlette

from reference_target.app import create_app
from reference_target.faults import FaultName
from reference_target.seed import DEFAULT_SEED, build_world, load_seed

READY_PREFIX = "reference target listening on "


VISITOR_MARK = " visitor "


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
    print(f"{READY_PREFIX}{url}{VISITOR_MARK}{visitor_url}", flush=True)
    apps = ((create_app(world, "agent"), sock), (create_app(world, "visitor"), visitor_sock))

    async def both() -> None:
        # One event loop for both hosts: the world stays single-threaded, each call atomic.
        await asyncio.gather(*(_server(app).serve(sockets=[s]) for app, s in apps))

    uvloop.run(both())


class EmbeddedReference:
    """The reference target in a child process on 127.0.0.1 and a port the OS picks."""

    def __init__(self, faults: tuple[str, ...] = (), seed_path: Path = DEFAULT_SEED) -> None:
        self.faults = faults
        self.seed_path = seed_path
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.visitor_url = ""
        # The server's log goes to a file: a pipe nobody reads fills up and blocks the server.
        self.log = tempfile.TemporaryFile(mode="w+", prefix="reference-target-")  # noqa: SIM115 - closed in stop()

    def start(self) -> str:
        command = [sys.executable, "-m", "reference_target", "--seed", str(self.seed_path)]
        for fault in self.faults:
            command += ["--fault", fault]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith(READY_PREFIX):
            self.process.kill()
            self.process.communicate(timeout=10)
            self.log.seek(0)
            raise RuntimeError(f"reference target did not start: {line.strip()} {self.log.read()[-2000:]}")
        self.url, _, visitor = line.removeprefix(READY_PREFIX).strip().partition(VISITOR_MARK)
        self.visitor_url = visitor or self.url
        return self.url

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()
        self.process = None
        self.log.close()

    def __enter__(self) -> EmbeddedReference:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
