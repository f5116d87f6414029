"""Every run writes reports/traffic.har: valid HAR 1.2, one entry per exchange, each tagged
with its test and rule (or the run's own set-up and clean-up). Secrets: tests/test_secrets.py
scans every file of a run's output, this one included."""

import json
import threading
from collections import Counter
from urllib.parse import urlsplit

import jsonschema
import pytest

from reference_target.embedded import EmbeddedReference
from tests.conftest import run_cli, summary_of
from tests.hostile_targets import HostileTarget, passthrough

pytestmark = pytest.mark.run

NAME_VALUES = {
    "type": "array",
    "items": {"type": "object", "required": ["name", "value"], "properties": {"name": {"type": "string"}}},
}
# The fields HAR 1.2 requires (http://www.softwareishard.com/blog/har-12-spec/), and their types.
HAR = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {"type": "object", "required": ["name", "version"]},
                "entries": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
                        "properties": {
                            "startedDateTime": {"type": "string", "format": "date-time"},
                            "time": {"type": "number", "minimum": 0},
                            "request": {
                                "type": "object",
                                "required": [
                                    "method",
                                    "url",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "queryString",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {"headers": NAME_VALUES, "queryString": NAME_VALUES},
                            },
                            "response": {
                                "type": "object",
                                "required": [
                                    "status",
                                    "statusText",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "content",
                                    "redirectURL",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "status": {"type": "integer"},
                                    "headers": NAME_VALUES,
                                    "content": {"type": "object", "required": ["size", "mimeType"]},
                                },
                            },
                            "timings": {"type": "object", "required": ["send", "wait", "receive"]},
                        },
                    },
                },
            },
        }
    },
}


def test_run_writes_valid_har_tagged_with_tests_and_rules(tmp_path):
    done = run_cli(
        "run",
        "--rule",
        "transfer-success-status",
        "--rule",
        "bearer-required",
        "--examples",
        "2",
        "--no-report",
        "--output",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stdout[-2000:]
    har = json.loads((tmp_path / "traffic.har").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(HAR, format_checker=jsonschema.FormatChecker()).validate(har)
    entries = har["log"]["entries"]
    tests = {result["nodeid"]: result["rule"] for result in summary_of(tmp_path)["results"]}
    assert {entry["_test"] for entry in entries} == {*tests, "set-up", "clean-up"}
    assert all(entry["_rule"] == tests[entry["_test"]] for entry in entries if entry["_test"] in tests)
    assert summary_of(tmp_path)["requests_sent"] == len(entries)
    assert not (tmp_path / "traffic.har.partial").exists()


# Without the recorder's lock, 16 threads of 400 short entries broke the file 5 times in 5.
ENTRIES_PER_THREAD = 400


def test_exchanges_recorded_from_many_threads_at_once_make_a_valid_har(tmp_path):
    """Calls sent at once answer on several threads; their entries must not interleave (they once
    split a UTF-8 character and left a HAR that could not be read)."""
    from transfer_conformance.http.client import Exchange
    from transfer_conformance.http.har import TrafficRecorder

    recorder = TrafficRecorder(tmp_path / "traffic.har")
    text = "Übergabe 🙂 " * 3
    exchange = Exchange("transfer", "POST", "http://127.0.0.1:1/x", {}, text, 200, {}, text)
    start = threading.Barrier(16)

    def record() -> None:
        start.wait()
        for _ in range(ENTRIES_PER_THREAD):
            recorder.listen(exchange)

    threads = [threading.Thread(target=record) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = json.loads(recorder.finish().read_text(encoding="utf-8"))["log"]["entries"]
    assert len(entries) == 16 * ENTRIES_PER_THREAD
    assert {entry["request"]["postData"]["text"] for entry in entries} == {text}


def test_every_request_the_target_receives_is_in_the_har(tmp_path):
    """What the report shows is all the run sent: a proxy in front of the reference counts the
    requests it forwards, and the HAR holds the same ones (Schemathesis' ignored_auth probes
    once went out through a session of their own, a third of the contract suite's requests)."""
    with EmbeddedReference() as served, HostileTarget(served.url, passthrough) as proxy:
        done = run_cli(
            "run",
            "--target-url",
            proxy.url,
            "--rule",
            "openapi-contract",
            "--rule",
            "transfer-success-status",
            "--examples",
            "2",
            "--no-report",
            "--output",
            str(tmp_path),
        )
        received = Counter((exchange.method, exchange.path.split("?")[0]) for exchange in proxy.requests)
    assert done.returncode == 0, done.stdout[-2000:]
    entries = json.loads((tmp_path / "traffic.har").read_text(encoding="utf-8"))["log"]["entries"]
    recorded = Counter(
        (entry["request"]["method"], urlsplit(entry["request"]["url"]).path) for entry in entries
    )
    assert recorded == received, (recorded - received) or (received - recorded)
