"""Which way to embed the reference target is faster for the suite (prints figures).

    .venv/bin/python benchmarks/embedded_start.py [--requests 3000]

Sends the same sequential requests from this process (as the suite does) to the reference
started (a) in a thread of this interpreter and (b) as a subprocess, and prints requests/s and
start-up time of each. The suite uses the faster: the subprocess.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import threading
import time

import requests
import uvicorn

from reference_target.app import create_app
from reference_target.embedded import EmbeddedReference
from reference_target.seed import build_world, load_seed


def in_thread() -> tuple[str, uvicorn.Server]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(build_world(load_seed())), log_level="warning", access_log=False, lifespan="off"
        )
    )
    threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True).start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def drive(url: str, count: int) -> float:
    session = requests.Session()
    key = "refkey-7d41c09a"
    started = time.perf_counter()
    for _ in range(count):
        session.get(f"{url}/api/account/90233546/chat/availability?v=1&appKey={key}", timeout=5)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    count = parser.parse_args().requests
    started = time.perf_counter()
    url, server = in_thread()
    thread_start = time.perf_counter() - started
    thread_rate = drive(url, count)
    server.should_exit = True
    started = time.perf_counter()
    with EmbeddedReference() as reference:
        process_start = time.perf_counter() - started
        process_rate = drive(reference.url, count)
    print(f"in a thread:   start {thread_start * 1000:6.0f} ms, {thread_rate:7.0f} sequential requests/s")
    print(f"in a process:  start {process_start * 1000:6.0f} ms, {process_rate:7.0f} sequential requests/s")


if __name__ == "__main__":
    main()
