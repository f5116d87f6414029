"""Traffic as data: every exchange of a run as HAR 1.2 (reports/traffic.har), tagged with the
test and rule it belongs to, masked like every other output.

Entries stream to a side file as they happen (a long nightly run keeps flat memory) and are
assembled into the HAR document when the run ends.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlparse

from transfer_conformance import __version__
from transfer_conformance.files import replacing
from transfer_conformance.http.client import Exchange
from transfer_conformance.http.masking import REGISTRY

# Tags of the run's own requests, outside any test.
SET_UP = "set-up"
CLEAN_UP = "clean-up"


def _pairs(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in mapping.items()]


def har_entry(exchange: Exchange, test: str, rule: str | None) -> dict[str, Any]:
    """One exchange as a HAR 1.2 entry; `_test` and `_rule` are custom fields (HAR allows `_`)."""
    return {
        "startedDateTime": datetime.fromtimestamp(exchange.started, UTC).isoformat(timespec="milliseconds"),
        "time": round(exchange.elapsed_ms, 1),
        "request": {
            "method": exchange.method,
            "url": exchange.url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(exchange.request_headers),
            "queryString": [
                {"name": name, "value": value}
                for name, value in parse_qsl(urlparse(exchange.url).query, keep_blank_values=True)
            ],
            **(
                {"postData": {"mimeType": exchange.request_content_type, "text": exchange.request_body}}
                if exchange.request_body
                else {}
            ),
            "headersSize": -1,
            "bodySize": len(exchange.request_body.encode()),
        },
        "response": {
            "status": exchange.status if exchange.status is not None else 0,
            "statusText": exchange.error,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(exchange.response_headers),
            "content": {
                "size": len(exchange.content),
                "mimeType": exchange.response_headers.get("content-type", ""),
                "text": exchange.response_body,
            },
            "redirectURL": exchange.response_headers.get("location", ""),
            "headersSize": -1,
            "bodySize": len(exchange.content),
        },
        "cache": {},
        "timings": {"send": 0, "wait": round(exchange.elapsed_ms, 1), "receive": 0},
        "comment": exchange.title,
        "_test": test,
        "_rule": rule,
    }


def json_shape(value: Any, depth: int = 2) -> str:
    """The structure of a JSON body without its values: keys and types, two levels deep."""
    if isinstance(value, dict):
        if depth == 0:
            return "{…}"
        return "{" + ",".join(f"{k}:{json_shape(v, depth - 1)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + (json_shape(value[0], depth) if value else "") + "]"
    return type(value).__name__


def body_shape(content: bytes, content_type: str) -> str:
    """An answer's body in a few words: its JSON shape, or the start of any other body."""
    if "json" in content_type:
        try:
            return json_shape(json.loads(content))
        except ValueError:
            pass
    text = " ".join(content.decode("utf-8", "replace").split())
    return (text[:80] + " …") if len(text) > 80 else (text or "no body")


class TrafficRecorder:
    """Listens to the recording client; knows which test is running."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_suffix(".har.partial")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.stream: TextIO = self.partial.open("w", encoding="utf-8")
        self.test, self.rule = SET_UP, None
        # Calls sent at once (the concurrency rules) answer on several threads; a text stream is
        # not thread-safe, and interleaved writes once split a UTF-8 character in two.
        self.lock = threading.Lock()
        # Why the traffic could not all be written (a full disk): the run goes on, cleans up,
        # writes what it can, and ends broken naming it.
        self.error = ""

    def listen(self, exchange: Exchange) -> None:
        line = json.dumps(har_entry(exchange, self.test, self.rule), ensure_ascii=False) + "\n"
        with self.lock:
            if self.error:
                return
            try:
                self.stream.write(line)
            except OSError as error:
                self.error = f"{self.partial}: {error.strerror or error}"

    def testing(self, test: str, rule: str | None) -> None:
        self.test, self.rule = test, rule

    def finish(self) -> Path | None:
        """Write the HAR document (every known secret masked once more) and drop the side file;
        None, with ``error`` set, when it could not be written whole."""
        with self.lock:
            try:
                self.stream.close()
            except OSError as error:
                self.error = self.error or f"{self.partial}: {error.strerror or error}"
        try:
            with (
                replacing(self.path) as out,
                self.partial.open(encoding="utf-8", errors="replace") as entries,
            ):
                creator = {"name": "transfer-conformance", "version": __version__}
                out.write('{"log": {"version": "1.2", "creator": ' + json.dumps(creator) + ', "entries": [')
                for number, line in enumerate(entries):
                    if line.endswith("\n"):  # a last line cut short by the error is left out
                        out.write(("," if number else "") + "\n" + REGISTRY.mask(line.rstrip("\n")))
                out.write("\n]}}\n")
        except OSError as error:
            self.error = self.error or f"{self.path}: {error.strerror or error}"
            return None
        self.partial.unlink()
        return self.path
