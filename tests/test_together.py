"""RecordingClient.together: independent calls at once, within the concurrency setting, with
results in order, nothing left in flight, and the first failure in order raised."""

from __future__ import annotations

import threading
import time

import pytest

from transfer_conformance.http.client import RecordingClient


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
