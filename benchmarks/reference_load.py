"""Load benchmark of the reference target (prints figures; not a test).

    .venv/bin/python benchmarks/reference_load.py [--seconds 20] [--workers 16]

Two phases against a reference started on an ephemeral port (its own process):
1. simple requests: GET availability with a bearer, from Debian's wrk (16 connections), the
   fast load generator (`apt-get install wrk`); without wrk, from the async client below;
2. the transfer flow: visitor requests a chat, agent takes it, lists skills, transfers it to a
   skill, the receiving agent takes it, the visitor ends it; from an async client (httpx) in
   this process. That client, not the server, bounds this phase's requests/s.
It prints requests/s, p50/p99 latency per call, and the server's resident memory over time,
with short retention limits so that a flat line shows ended chats and idle sessions are freed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from reference_target.embedded import EmbeddedReference
from transfer_conformance.target_api.profile import load_profile
from transfer_contract.paths import TARGETS

ACCOUNT = "/api/account/90233546"


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def short_retention_seed() -> Path:
    text = (TARGETS / "reference.toml").read_text()
    for key, value in (("session_idle_s", 30), ("ended_chat_retention_s", 1), ("chat_idle_s", 30)):
        text = re.sub(rf"^{key} = .*$", f"{key} = {value}", text, flags=re.M)
    path = Path(tempfile.mkdtemp()) / "reference.toml"
    path.write_text(text)
    return path


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors = 0

    async def call(
        self, client: httpx.AsyncClient, name: str, method: str, url: str, **kw: Any
    ) -> httpx.Response:
        started = time.perf_counter()
        response = await client.request(method, url, **kw)
        self.latencies[name].append((time.perf_counter() - started) * 1000)
        if response.status_code >= 500:
            self.errors += 1
        return response

    def report(self, seconds: float, title: str) -> None:
        total = sum(len(v) for v in self.latencies.values())
        print(
            f"\n{title}: {total} requests in {seconds:.1f} s = {total / seconds:,.0f} requests/s"
            f" ({self.errors} 5xx)"
        )
        for name, values in sorted(self.latencies.items()):
            values.sort()
            p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
            print(
                f"  {name:28} n={len(values):6}  p50 {statistics.median(values):6.2f} ms  p99 {p99:6.2f} ms"
            )


async def login(client: httpx.AsyncClient, base: str, username: str, password: str) -> tuple[str, str]:
    answer = await client.post(
        f"{base}{ACCOUNT}/login?v=1.3", json={"username": username, "password": password}
    )
    bearer = answer.json()["bearer"]
    headers = {"Authorization": f"Bearer {bearer}"}
    session = await client.post(f"{base}{ACCOUNT}/agentSession?v=1", json={"loginData": ""}, headers=headers)
    url = session.json()["agentSessionLocation"]["link"]["@href"]
    await client.post(
        f"{url}/availability?v=1",
        json={"availability": {"chat": "Online"}},
        headers={**headers, "X-HTTP-Method-Override": "PUT"},
    )
    return bearer, url


async def simple_phase(base: str, seconds: float, workers: int) -> None:
    profile = load_profile("reference")
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=workers)) as client:
        login_ = profile.agents["receiving"]
        bearer, session = await login(client, base, login_.username, login_.password)
        wrk = shutil.which("wrk")
        if wrk:
            done = subprocess.run(
                [
                    wrk,
                    "-t1",
                    "-c16",
                    f"-d{int(seconds)}s",
                    "--latency",
                    "-H",
                    f"Authorization: Bearer {bearer}",
                    f"{session}/availability?v=1",
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            print("\nsimple requests (wrk, 16 connections, GET availability):")
            print(done.stdout.replace(bearer, "$LP_BEARER"))
            return
        print("\n(wrk not installed: the async client below limits this figure)")
        recorder, deadline = Recorder(), time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await recorder.call(
                    client,
                    "GET availability",
                    "GET",
                    f"{session}/availability?v=1",
                    headers={"Authorization": f"Bearer {bearer}"},
                )

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        recorder.report(time.perf_counter() - started, "simple requests")


async def flow_phase(base: str, seconds: float, workers: int, server_pid: int) -> None:
    profile = load_profile("reference")
    key = profile.visitor_app_key
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=workers * 2)) as client:
        first = profile.agents["transferring"]
        second = profile.agents["receiving"]
        t_bearer, t_session = await login(client, base, first.username, first.password)
        r_bearer, r_session = await login(client, base, second.username, second.password)
        t_auth, r_auth = {"Authorization": f"Bearer {t_bearer}"}, {"Authorization": f"Bearer {r_bearer}"}
        recorder, deadline = Recorder(), time.perf_counter() + seconds
        memory: list[tuple[float, float]] = []

        async def end(chat_id: str) -> None:
            await recorder.call(
                client,
                "visitor ends",
                "POST",
                f"{base}{ACCOUNT}/chat/{chat_id}/events?v=1&appKey={key}",
                json={"event": {"@type": "state", "state": "ended"}},
            )

        async def worker() -> None:
            while time.perf_counter() < deadline:
                asked = await recorder.call(
                    client,
                    "visitor requests chat",
                    "POST",
                    f"{base}{ACCOUNT}/chat/request?v=1&appKey={key}",
                    json={"request": {"skill": "Sales"}},
                )
                mine = asked.headers["location"].rsplit("/", 1)[-1]
                taken = await recorder.call(
                    client,
                    "agent takes",
                    "POST",
                    f"{t_session}/incomingRequests?v=1",
                    json={},
                    headers=t_auth,
                )
                if taken.status_code == 201:
                    chat = taken.json()["chatLocation"]["link"]["@href"]
                    await recorder.call(
                        client, "retrieve available skills", "GET", f"{chat}/transfer?v=1", headers=t_auth
                    )
                    await recorder.call(
                        client,
                        "transfer to skill",
                        "POST",
                        f"{chat}/transfer?v=1",
                        json={"transfer": {"skill": {"id": 2}, "text": "over to you"}},
                        headers=t_auth,
                    )
                    again = await recorder.call(
                        client,
                        "receiving agent takes",
                        "POST",
                        f"{r_session}/incomingRequests?v=1",
                        json={},
                        headers=r_auth,
                    )
                    if again.status_code == 201:
                        await end(again.json()["chatLocation"]["link"]["@href"].rsplit("/", 1)[-1])
                    await end(chat.rsplit("/", 1)[-1])
                await end(mine)

        async def sample() -> None:
            while time.perf_counter() < deadline:
                memory.append((time.perf_counter(), rss_mb(server_pid)))
                await asyncio.sleep(1)  # a sampling interval, not a wait for a condition

        started = time.perf_counter()
        await asyncio.gather(sample(), *(worker() for _ in range(workers)))
        elapsed = time.perf_counter() - started
        recorder.report(elapsed, "transfer flow")
        flows = len(recorder.latencies["transfer to skill"])
        print(f"  transfer flows completed: {flows} ({flows / elapsed:,.0f}/s)")
        marks = memory[:: max(1, len(memory) // 6)]
        print("  server RSS (MB) over the run: " + ", ".join(f"{mb:.1f}" for _, mb in marks))
        state = (await client.get(f"{base}/_reference/state")).json()
        print(f"  state after the run (reference-only summary): {state}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    with EmbeddedReference(seed_path=short_retention_seed()) as server:
        assert server.process is not None
        print(
            f"reference target at {server.url}, pid {server.process.pid}, "
            f"RSS at start {rss_mb(server.process.pid):.1f} MB"
        )
        asyncio.run(simple_phase(server.url, min(5.0, args.seconds), args.workers))
        asyncio.run(flow_phase(server.url, args.seconds, args.workers, server.process.pid))


if __name__ == "__main__":
    main()
