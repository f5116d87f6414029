"""The reference target as a child process on 127.0.0.1 and a port the OS picks.

A subprocess rather than a thread: the suite's client and the server then do not share one
interpreter (measured faster; see README "Benchmarks"). This module imports nothing of the
server, so the suite's process does not load Starlette or the simulator to start one.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from transfer_contract.paths import REFERENCE_SEED

READY_PREFIX = "reference target listening on "
VISITOR_MARK = " visitor "
DEFAULT_SEED = REFERENCE_SEED
# How long the server may take to say where it listens (it starts in about a second).
START_TIMEOUT_S = 60.0


class EmbeddedReference:
    """The reference target in a child process on 127.0.0.1 and a port the OS picks."""

    def __init__(self, faults: tuple[str, ...] = (), seed_path: Path = DEFAULT_SEED) -> None:
        self.faults = faults
        self.seed_path = seed_path
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.visitor_url = ""
        # The server's log goes to a file: a pipe nobody reads fills up and blocks the server.
        self.log = tempfile.TemporaryFile(mode="w+", prefix="reference-target-")  # noqa: SIM115 - closed in stop()

    def start(self) -> str:
        """Start the server and wait until it listens; its URL."""
        self.spawn()
        return self.wait_ready()

    def spawn(self) -> None:
        """Start the server's process without waiting for it (`wait_ready` does): the caller
        can do other work while it starts."""
        command = [
            sys.executable,
            "-m",
            "reference_target",
            "--seed",
            str(self.seed_path),
            "--exit-with-parent",
        ]
        for fault in self.faults:
            command += ["--fault", fault]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # The child's standard input is a pipe only this process holds: when this process ends,
        # however it ends, the child sees the pipe close and exits (--exit-with-parent).
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env
        )

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Wait (at most ``timeout_s``) for the server to say where it listens; its URL."""
        assert self.process is not None
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        line = self.process.stdout.readline() if ready else f"(nothing within {timeout_s:g} s)"
        if not line.startswith(READY_PREFIX):
            self.process.kill()
            self.process.communicate(timeout=10)
            self.log.seek(0)
            raise RuntimeError(f"reference target did not start: {line.strip()} {self.log.read()[-2000:]}")
        self.url, _, visitor = line.removeprefix(READY_PREFIX).strip().partition(VISITOR_MARK)
        self.visitor_url = visitor or self.url
        return self.url

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()
        self.process = None
        self.log.close()

    def __enter__(self) -> EmbeddedReference:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
