"""RecordingClient.record_external: a request another library sent is placed on the run's
timeline when it was sent, not when it was recorded (the HAR's startedDateTime)."""

from __future__ import annotations

import datetime
import time
from typing import ClassVar

from transfer_conformance.http.client import RecordingClient
from transfer_conformance.http.har import har_entry


class Answer:
    """What Schemathesis hands back: a status, headers, a body and how long the answer took."""

    status_code = 200
    headers: ClassVar[dict[str, str]] = {"Content-Type": "application/json"}
    content = b"{}"
    elapsed = 2.5


def test_an_external_request_starts_when_it_was_sent():
    client = RecordingClient()
    recorded_at = time.time()
    exchange = client.record_external("read", "GET", "http://127.0.0.1/x", {}, None, Answer())
    assert abs(exchange.started - (recorded_at - Answer.elapsed)) < 0.5
    entry = har_entry(exchange, "tests/x.py::test", None)
    started = datetime.datetime.fromisoformat(entry["startedDateTime"]).timestamp()
    assert abs(started - (recorded_at - Answer.elapsed)) < 0.5
    assert entry["time"] == 2500
