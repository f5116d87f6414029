"""Hostile and broken targets, as the fault catalogue is for conformance: a proxy in front of the
reference that misbehaves in one named way. Test helper only.

A plain threaded HTTP server on 127.0.0.1 and a port the OS picks, so that a behaviour can
work at the byte level (trickle, hang, garbage, endless chunks). Requests pass to the upstream
reference with their Host header, so the links the reference writes name the proxy. Every
behaviour is bounded in time: the server never keeps a socket past its own limit.
"""

from __future__ import annotations

import base64
import contextlib
import html
import http.client
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, urlparse

# The longest any behaviour holds a connection open: far past the suite's deadlines.
HOLD_S = 20.0
POLL_S = 0.02


@dataclass
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Behaviour = Callable[["Handler", Exchange, "HostileTarget"], bool]


class Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm and delayed ACKs
    # stall every answer by 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        return

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        exchange = Exchange(self.command, self.path, dict(self.headers.items()), body)
        target = self.server.target
        target.seen(exchange)
        if not target.behaviour(self, exchange, target):
            status, headers, content = target.forward(exchange)
            self.answer(status, content, headers)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def answer(self, status: int, content: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    target: HostileTarget


@dataclass
class HostileTarget:
    upstream: str
    behaviour: Behaviour
    requests: list[Exchange] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.target = self
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # serve_forever looks for shutdown() between waits of poll_interval (half a second by
        # default): every test ending with a proxy would wait that out.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(POLL_S,), daemon=True)

    def seen(self, exchange: Exchange) -> None:
        self.requests.append(exchange)

    def count(self, key: str) -> int:
        """How often ``key`` was met before (a behaviour may act only the first times)."""
        self.calls[key] = self.calls.get(key, 0) + 1
        return self.calls[key]

    def bearers(self) -> set[str]:
        """Every bearer the target issued at login: they are secrets too (the suite's and
        Schemathesis' deliberately invalid ones are not)."""
        return set(self.issued)

    def forward(self, exchange: Exchange) -> tuple[int, dict[str, str], bytes]:
        parsed = urlparse(self.upstream)
        connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        headers = {k: v for k, v in exchange.headers.items() if k.lower() not in ("content-length",)}
        connection.request(exchange.method, exchange.path, body=exchange.body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        if is_login(exchange) and response.status == 200:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self.issued.append(str(json.loads(content)["bearer"]))
        kept = {
            name: value
            for name, value in response.getheaders()
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server")
        }
        connection.close()
        return response.status, kept, content

    def __enter__(self) -> HostileTarget:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Recorder:
    """Another origin: it must never be sent a request (it counts any it gets)."""

    def __init__(self) -> None:
        self.target = HostileTarget("http://127.0.0.1:9", lambda handler, exchange, target: _refuse(handler))
        self.url = self.target.url

    def __enter__(self) -> Recorder:
        self.target.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.target.__exit__()


def _refuse(handler: Handler) -> bool:
    handler.answer(404, b"")
    return True


# ---------------------------------------------------------------------- behaviours
def is_login(exchange: Exchange) -> bool:
    return exchange.method == "POST" and "/login" in exchange.path


def is_session_start(exchange: Exchange) -> bool:
    return exchange.method == "POST" and urlparse(exchange.path).path.rstrip("/").endswith("/agentSession")


def is_transfer(exchange: Exchange) -> bool:
    return exchange.method == "POST" and urlparse(exchange.path).path.endswith("/transfer")


def _stream(handler: Handler, headers: dict[str, str], piece: bytes, pause_s: float = 0.0) -> None:
    """Answer 200 with ``headers``, then write ``piece`` again and again until HOLD_S has
    passed or the suite hangs up."""
    handler.send_response(200)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    deadline = time.monotonic() + HOLD_S
    with contextlib.suppress(OSError):
        while time.monotonic() < deadline:
            handler.wfile.write(piece)
            handler.wfile.flush()
            if pause_s:
                time.sleep(pause_s)  # the behaviour under test is a slow target, not a wait


def trickle(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Transfers answer one byte every half second."""
    if not is_transfer(exchange):
        return False
    _stream(handler, {"Content-Length": "200"}, b" ", pause_s=0.5)
    return True


def hang(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Starting an agent session never answers."""
    if not is_session_start(exchange):
        return False
    time.sleep(HOLD_S)  # the behaviour under test: a target that never answers
    return True


def _huge(handler: Handler) -> None:
    size = 200 * 1024 * 1024
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(size))
    handler.end_headers()
    chunk = b"0" * 65536
    with contextlib.suppress(OSError):
        for _ in range(size // len(chunk)):
            handler.wfile.write(chunk)


def huge_body(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Login answers a 200 MB body."""
    if not is_login(exchange):
        return False
    _huge(handler)
    return True


def huge_agents_list(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """The agents list, which only the contract reads (through Schemathesis), is 200 MB."""
    if "/availableAgents" not in exchange.path:
        return False
    _huge(handler)
    return True


def endless_chunks(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Login answers a chunked body that never ends."""
    if not is_login(exchange):
        return False
    _stream(handler, {"Transfer-Encoding": "chunked"}, b"10000\r\n" + b"{" * 0x10000 + b"\r\n")
    return True


def redirect_elsewhere(elsewhere: str) -> Behaviour:
    def behaviour(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
        """Starting an agent session redirects to another origin."""
        if not is_session_start(exchange):
            return False
        handler.answer(307, b"", {"Location": f"{elsewhere}{exchange.path}"})
        return True

    return behaviour


def foreign_session_link(elsewhere: str) -> Behaviour:
    def behaviour(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
        """The agent session's link names another origin."""
        if not is_session_start(exchange):
            return False
        status, headers, content = target.forward(exchange)
        own = target.url.encode()
        handler.answer(status, content.replace(own, elsewhere.encode()), headers)
        return True

    return behaviour


def echoes(secret_values: list[str]) -> Behaviour:
    def behaviour(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
        """Every answer echoes the credentials it was sent, and the canaries, in a header, the
        Location and error bodies: raw, URL-encoded, base64 and HTML-escaped."""
        status, headers, content = target.forward(exchange)
        values = [*secret_values, *target.bearers()]
        forms = [
            form
            for value in values
            for form in (
                value,
                quote(value, safe=""),
                base64.b64encode(value.encode()).decode(),
                html.escape(value),
            )
        ]
        headers["X-Echo"] = quote(" ".join(forms), safe="")
        headers["X-Echo-Base64"] = base64.b64encode(" ".join(values).encode()).decode()
        if "Location" in headers or "location" in headers:
            key = "Location" if "Location" in headers else "location"
            headers[key] = f"{headers[key]}?echo={quote(values[0], safe='')}"
        try:
            data = json.loads(content) if content else None
        except ValueError:
            data = None
        if isinstance(data, dict):
            data["echo"] = " ".join(forms)
            content = json.dumps(data).encode()
        elif status >= 400:
            content += " ".join(forms).encode()
        handler.answer(status, content, headers)
        return True

    return behaviour


def retry_after(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """The first two logins answer 503 asking to retry in six hours."""
    if not is_login(exchange) or target.count("login") > 2:
        return False
    handler.answer(503, b"", {"Retry-After": "21600"})
    return True


def garbage(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Starting an agent session answers bytes that are not HTTP."""
    if not is_session_start(exchange):
        return False
    handler.wfile.write(bytes(range(256)) * 8)
    handler.close_connection = True
    return True


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]><events><event id='1' type='line'><text>&lol9;</text></event></events>"
)


def xml_bombs(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Every XML answer is an entity-expansion bomb."""
    if "xml" not in exchange.headers.get("Accept", ""):
        return False
    handler.answer(200, BOMB, {"Content-Type": "application/xml"})
    return True


def server_error_storm(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Every transfer answers 500."""
    if not is_transfer(exchange):
        return False
    handler.answer(500, b'{"error": {"message": "storm"}}', {"Content-Type": "application/json"})
    return True


def server_error_then_reset(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Every transfer answers 500, then closes the connection before the body it announced."""
    if not is_transfer(exchange):
        return False
    handler.send_response(500)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "400")
    handler.end_headers()
    handler.wfile.write(b'{"error": {"mess')
    handler.wfile.flush()
    handler.close_connection = True
    return True


def trickle_everything(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Every answer, the login's too, comes one byte every half second."""
    _stream(handler, {"Content-Length": "200"}, b" ", pause_s=0.5)
    return True


def dies_after_transfers(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    """Answers as the reference does until its sixth transfer; from then on it answers nothing."""
    if target.calls.get("transfers", 0) < 6:
        if is_transfer(exchange):
            target.calls["transfers"] = target.calls.get("transfers", 0) + 1
        return False
    time.sleep(HOLD_S)  # the behaviour under test: a target that stopped answering
    return True


def passthrough(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
    return False


def signal_on_transfer(
    reached: threading.Event, number: int, hold: threading.Event | None = None
) -> Behaviour:
    def behaviour(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
        """Passes everything through, and says when the run has sent its ``number``th transfer
        (the first is the set-up's probe of the XML form; later ones are tests'); with ``hold``,
        that transfer goes on only once ``hold`` is set (its sender waits meanwhile)."""
        if is_transfer(exchange) and target.count("transfer") == number:
            reached.set()
            if hold is not None:
                hold.wait(60)
        return False

    return behaviour


def delayed(seconds: float) -> Behaviour:
    def behaviour(handler: Handler, exchange: Exchange, target: HostileTarget) -> bool:
        """Every answer, correct, but ``seconds`` late: a far target, not a dead one."""
        time.sleep(seconds)  # the behaviour under test: a slow network between suite and target
        return False

    return behaviour
