"""RecordingClient.together: independent calls at once, within the concurrency setting, with
results in order, nothing left in flight, and the first failure in order raised."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from reference_target.embedded import EmbeddedReference
from transfer_conformance.http.client import RecordingClient, TargetDown
from transfer_conformance.target_api.api import ChatApi
from transfer_conformance.target_api.harness import Harness
from transfer_conformance.target_api.profile import load_profile


class InFlight:
    """Counts calls under way at once; each waits at a barrier of ``meet`` calls, which only
    calls that really run at the same time can pass (no sleeps, no timing)."""

    def __init__(self, meet: int) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.barrier = threading.Barrier(meet, timeout=10)

    def call(self, value: int) -> int:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            self.barrier.wait()
        finally:
            with self.lock:
                self.now -= 1
        return value


def test_calls_overlap_up_to_the_concurrency_and_keep_their_order():
    client = RecordingClient(concurrency=2)
    flight = InFlight(meet=2)
    try:
        results = client.together(*(lambda v=v: flight.call(v) for v in range(6)))
    finally:
        client.close()
    assert results == list(range(6))
    assert flight.most == 2


def test_one_at_a_time_runs_in_the_callers_thread():
    client = RecordingClient(concurrency=1)
    threads = client.together(*(threading.current_thread for _ in range(3)))
    assert threads == [threading.main_thread()] * 3


def test_every_call_ends_and_the_first_failure_in_order_is_raised():
    client = RecordingClient(concurrency=4)
    finished: list[int] = []

    def call(value: int) -> int:
        if value in (1, 3):
            raise ValueError(f"call {value}")
        finished.append(value)
        return value

    try:
        with pytest.raises(ValueError, match="call 1"):
            client.together(*(lambda v=v: call(v) for v in range(5)))
    finally:
        client.close()
    assert sorted(finished) == [0, 2, 4]


def test_calls_made_inside_a_call_run_one_by_one_instead_of_waiting_forever():
    client = RecordingClient(concurrency=2)
    flight = InFlight(meet=2)

    def outer(value: int) -> list[int]:
        # both outer calls hold the two workers; inner calls queued behind them would never run
        inner = client.together(lambda: value, lambda: value + 10)
        return [flight.call(value), *inner]

    try:
        assert client.together(lambda: outer(1), lambda: outer(2)) == [[1, 1, 11], [2, 2, 12]]
    finally:
        client.close()


def test_a_rate_limit_paces_requests_however_many_are_in_flight():
    """requests_per_second holds across the threads of together() (a lower bound only)."""
    client = RecordingClient(requests_per_second=20, concurrency=4)
    assert RecordingClient()._limiter is None
    started = time.monotonic()
    try:
        client.together(*(lambda: client._limiter.try_acquire("target") for _ in range(5)))
    finally:
        client.close()
    assert time.monotonic() - started >= 4 / 20 * 0.9


def test_pending_clean_up_runs_once_before_anything_else_is_sent_or_overlapped():
    client = RecordingClient(concurrency=4)
    order: list[str] = []
    client.pending = lambda: order.append("clean-up")
    try:
        client.together(lambda: order.append("a"), lambda: order.append("b"))
        client.together(lambda: order.append("c"), lambda: order.append("d"))
    finally:
        client.close()
    assert order[0] == "clean-up" and order.count("clean-up") == 1
    assert sorted(order[1:]) == ["a", "b", "c", "d"]
    # before a request too, even one that is never sent (the target is down)
    client = RecordingClient()
    client.pending, client.outage = (lambda: order.append("before the request")), "down"
    with pytest.raises(TargetDown):
        client.send("GET", "http://127.0.0.1:9/x", title="a read")
    assert order[-1] == "before the request" and client.pending is None


@pytest.mark.parametrize("concurrency", [1, 4])
def test_an_examples_chats_end_with_the_next_chat_request_and_stay_out_of_its_evidence(concurrency):
    """Harness.example leaves its chats to end with the next example's chat request (latency
    overlapped; one at a time they end first, as before); the next example's history holds
    only its own requests, and clean-up leaves nothing open."""
    with EmbeddedReference() as server:
        profile = load_profile("reference")
        profile.base_url = profile.login_url = profile.visitor_url = server.url
        harness = Harness(ChatApi(profile, RecordingClient(concurrency=concurrency)), profile.ids())
        harness.bring_agents_online()
        try:
            with harness.example():
                # two chats: they end at once, beside the next chat request
                first = [harness.open_chat(), harness.open_chat()]
            assert harness.ending == first[::-1], "left to end with the next request"
            with harness.example():
                second = harness.open_chat()
                titles = [exchange.title for exchange in harness.api.client.history]
                assert harness.ending == []
            assert titles == [
                "the visitor requests a chat",
                "the transferring agent takes the next ringing chat",
            ]
            state = requests.get(f"{server.url}/_reference/state", timeout=5).json()
            assert state["open_chats"] == 1, "the first example's chats ended, the second's waits"
            harness.clean_up()
            state = requests.get(f"{server.url}/_reference/state", timeout=5).json()
            assert state["open_chats"] == 0 and second not in harness.ending
        finally:
            harness.log_out()
            harness.api.client.close()
