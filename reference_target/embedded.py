"""The reference target as a child process on 127.0.0.1 and a port the OS picks.

A subprocess rather than a thread: the suite's client and the server then do not share one
interpreter (measured faster; see README "Benchmarks"). This module imports nothing of the
server, so the suite's process does not load Starlette or the simulator to start one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from transfer_contract.paths import REFERENCE_SEED

READY_PREFIX = "reference target listening on "
VISITOR_MARK = " visitor "
DEFAULT_SEED = REFERENCE_SEED


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
        command = [sys.executable, "-m", "reference_target", "--seed", str(self.seed_path)]
        for fault in self.faults:
            command += ["--fault", fault]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
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
