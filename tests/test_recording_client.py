"""RecordingClient.record_external: a request another library sent is placed on the run's
timeline when it was sent, not when it was recorded (the HAR's startedDateTime). And which
failed requests the client sends again."""

from __future__ import annotations

import datetime
import time
from typing import ClassVar

import pytest

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


def test_tls_to_a_plain_port_is_not_sent_again_and_other_tls_failures_are():
    """The same wrong-version answer comes back every time (the retries only delayed "did you
    mean http://?" by 3.5 s); a TLS handshake cut short may not, and keeps its retries."""
    from urllib3.exceptions import MaxRetryError, SSLError

    from transfer_conformance.http.client import RetryBudget, bounded_retry

    retry = bounded_retry(3, RetryBudget(cap_s=1, total_s=1))
    wrong = SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "https://127.0.0.1:1/", error=wrong)
    cut = SSLError("EOF occurred in violation of protocol (_ssl.c:2427)")
    assert retry.increment("GET", "https://127.0.0.1:1/", error=cut).total == 2
