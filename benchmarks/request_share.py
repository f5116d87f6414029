"""Benchmark: how busy a ci run keeps the target (prints figures; not a test).

    .venv/bin/python benchmarks/request_share.py [--seconds 3]

Runs `transfer-conformance run --profile ci --no-report` against the reference and reads from
its summary how many requests it sent over the run; then measures the same client
(RecordingClient, masking and recording included) sending simple requests to a fresh
reference as fast as it can, one at a time. The share is the suite's request rate over the
client's raw rate: 1.0 would mean the suite spends no time of its own between requests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reference_target.embedded import EmbeddedReference
from transfer_conformance.http.client import RecordingClient
from transfer_conformance.run.summary import RunSummary
from transfer_conformance.target_api.api import ChatApi
from transfer_conformance.target_api.calls import with_query
from transfer_conformance.target_api.profile import load_profile


def suite_rate() -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as output:
        command = [sys.executable, "-m", "transfer_conformance.cli", "run", "--no-report", "--output", output]
        subprocess.run(command, capture_output=True, check=False)
        summary = RunSummary.load(Path(output) / "last-run.json")
    assert summary is not None, "the run wrote no summary"
    return summary.requests_sent, summary.finished - summary.started


def raw_rate(seconds: float) -> float:
    profile = load_profile("reference")
    with EmbeddedReference() as reference:
        profile.base_url = profile.login_url = profile.visitor_url = reference.url
        client = RecordingClient()
        api = ChatApi(profile, client)
        login = profile.agents["transferring"]
        agent = api.auth.log_in(login)
        url = with_query(f"{agent.session_url}/availability")
        sent, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            client.send("GET", url, title="availability", headers=api.headers(agent))
            client.forget_history()
            sent += 1
        return sent / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    sent, wall = suite_rate()
    raw = raw_rate(args.seconds)
    rate = sent / wall
    print(f"ci run: {sent} requests in {wall:.1f} s of test session: {rate:.0f} requests/s")
    print(f"same client, raw loopback against the reference: {raw:.0f} requests/s")
    print(f"share: {rate / raw:.2f} (aim 0.5 or more)")


if __name__ == "__main__":
    main()
