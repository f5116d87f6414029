"""Helpers of the project's own tests: run the CLI as a user does, in a folder of its own."""

import atexit
import contextlib
import functools
import io
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

from tests.forkserver import Zygote, fork_references
from transfer_conformance.cli import main
from transfer_contract.catalogue import rules
from transfer_contract.paths import CHECKOUT as ROOT

GROUP_MARK = re.compile(r"xdist_group\(\"([^\"]+)\"\)")


@functools.cache
def group_of(path: str) -> str:
    """The xdist_group a test module declares in its pytestmark ('' for none)."""
    found = GROUP_MARK.search((ROOT / path).read_text(encoding="utf-8")) if path.endswith(".py") else None
    return found.group(1) if found else ""


class GroupedScheduling(LoadScopeScheduling):
    """`--dist load`, except that a module marked with xdist_group goes to one worker with its
    tests in a row, so that its module fixture (one whole run that many tests read) runs once.
    xdist's own loadgroup renames the items to do this, which pytest 9 no longer reads: it sent
    a group's tests to both workers, and each ran the shared run again."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid.split("::", 1)[0]) or nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> GroupedScheduling:
    return GroupedScheduling(config, log)


# The modules whose tests (or shared runs) take longest, longest first, ahead of the others:
# the workers take tests in collection order, and a long one taken last kept one worker busy
# alone at the end (measured with `--durations=0`; the quick tests then fill in the gaps).
LONGEST_FIRST = (
    "test_report_in_chromium.py",
    "test_reference_no_5xx.py",
    "test_shared_staging.py",
    "test_documented_dialect.py",
    "test_secrets.py",
    "test_diff.py",
    "test_pytest_plugin.py",
    "test_lanes.py",
    "test_wheel.py",
    "test_replay.py",
    "test_discover.py",
    "test_variants.py",
    "test_hostile_targets.py",
    "test_fault_matrix.py",
    "test_unlisted_faults.py",
    "test_cli.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: number for number, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))


# A run that fails one rule with a catalogued fault (shared by the report and known-issue tests).
FAILING_RUN = (
    "run",
    "--fault",
    "skill_wins_over_agent",
    "--rule",
    "agent-takes-precedence",
    "--examples",
    "3",
)


# Every rule a suite module judges but the Schemathesis contract: the self-test's runs that
# prove something else skip its cases (half a run's time); `bench` runs them in full.
BEHAVIOUR_RULES = tuple(
    argument
    for rule in rules().values()
    if rule.check == "suite" and rule.id != "openapi-contract"
    for argument in ("--rule", rule.id)
)
# The rules a [decisions] table changes: the decisions, and the MUST rules whose generators
# widen to what a profile declares (a longer text, more characters, ids as strings).
WIDENED_MUST = (
    "transfer-success-status",
    "agent-takes-precedence",
    "text-optional",
    "text-only-to-receiving-agent",
)


class ForkServer:
    """This test worker's tests/forkserver.py: the CLI forked from an interpreter that has
    imported what a run needs (a new interpreter per run was a third of the self-test's CPU)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.forkserver"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        atexit.register(self.close)

    def answer(self, deadline: float) -> dict | None:
        """The server's next line, or None when the deadline passed first."""
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the fork server ended")
        return json.loads(line)

    def call(self, args: tuple[str, ...], timeout: float) -> subprocess.CompletedProcess:
        assert self.process.stdin is not None
        with tempfile.TemporaryDirectory(prefix="cli-") as folder:
            out, err = Path(folder, "stdout"), Path(folder, "stderr")
            request = {
                "argv": list(args),
                "cwd": str(ROOT),
                "env": dict(os.environ),
                "stdout": str(out),
                "stderr": str(err),
            }
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            deadline = time.monotonic() + timeout
            started = self.answer(deadline + 30)
            assert started is not None, "the fork server did not fork"
            ended = self.answer(deadline)
            if ended is None:
                # The run and whatever it started (its own process group), as subprocess.run's
                # timeout would; the server then reports the killed child.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(started["pid"], signal.SIGKILL)
                self.answer(time.monotonic() + 30)
                raise subprocess.TimeoutExpired(list(args), timeout)
            done = subprocess.CompletedProcess(
                args,
                ended["status"],
                out.read_text(encoding="utf-8", errors="replace"),
                err.read_text(encoding="utf-8", errors="replace"),
            )
        done.peak_mb = ended["peak_kb"] / 1024  # type: ignore[attr-defined]
        done.pid = started["pid"]  # type: ignore[attr-defined]
        return done

    def spawn(self, args: tuple[str, ...]) -> "Spawned":
        """The CLI with ``args`` forked and left running: the test signals it, runs others
        beside it, and waits for it, as it would a subprocess.Popen."""
        assert self.process.stdin is not None
        folder = Path(tempfile.mkdtemp(prefix="spawned-"))
        request = {
            "argv": list(args),
            "cwd": str(ROOT),
            "env": dict(os.environ),
            "stdout": str(folder / "stdout"),
            "stderr": str(folder / "stderr"),
            "spawn": True,
        }
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        started = self.answer(time.monotonic() + 30)
        assert started is not None, "the fork server did not fork"
        return Spawned(self, started["pid"], folder)

    def reap(self, pid: int) -> int:
        """The exit code of a spawned run that has ended."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"reap": pid}) + "\n")
        self.process.stdin.flush()
        ended = self.answer(time.monotonic() + 30)
        assert ended is not None, "the fork server did not answer"
        return ended["status"]

    def zygote(self) -> Zygote:
        """A zygote of this server's warm interpreter for the worker's own embedded references."""
        assert self.process.stdin is not None
        path = Path(tempfile.mkdtemp(prefix="zygote-")) / "socket"
        self.process.stdin.write(json.dumps({"zygote": str(path)}) + "\n")
        self.process.stdin.flush()
        assert self.answer(time.monotonic() + 60) is not None, "the fork server did not fork"
        zygote = Zygote.at(str(path))
        # connected: the name is no longer needed
        shutil.rmtree(path.parent)
        return zygote

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


class Spawned:
    """A run the fork server forked and did not wait for, with what the tests use of a
    subprocess.Popen: its pid (its own process group's), signals, wait with a timeout, and
    communicate (its standard output and error, as text). Not the worker's child: its end is
    seen through a pidfd, and the server, its parent, gives its exit code."""

    def __init__(self, server: ForkServer, pid: int, folder: Path) -> None:
        self.server, self.pid, self.folder = server, pid, folder
        self.pidfd = os.pidfd_open(pid)
        self.returncode: int | None = None
        self.output: tuple[str, str] | None = None

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            ended, _, _ = select.select([self.pidfd], [], [], timeout)
            if not ended:
                raise subprocess.TimeoutExpired(f"spawned run {self.pid}", timeout or 0)
            os.close(self.pidfd)
            self.returncode = self.server.reap(self.pid)
        return self.returncode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        self.wait(timeout)
        if self.output is None:
            out, err = (
                (self.folder / name).read_text(encoding="utf-8", errors="replace")
                for name in ("stdout", "stderr")
            )
            self.output = (out, err)
            shutil.rmtree(self.folder, ignore_errors=True)
        return self.output


@functools.cache
def fork_server() -> ForkServer:
    return ForkServer()


@functools.cache
def worker_zygote() -> Zygote:
    return fork_server().zygote()


def pytest_configure(config: pytest.Config) -> None:
    # The references tests start are forked from the fork server's warm interpreter too: a new
    # interpreter per reference spends half a second of CPU on imports (the fault matrix alone
    # starts thirty). The path a real run takes is covered: tests/test_reference_target.py
    # starts one in a new interpreter, and tests/test_wheel.py runs the installed command.
    fork_references(worker_zygote)


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """The CLI as a user runs it, in a process of its own: its exit code, stdout and stderr,
    and (``peak_mb``) the process's peak memory."""
    return fork_server().call(args, timeout)


def spawn_cli(*args: str) -> Spawned:
    """The CLI as `run_cli` starts it, left running for the test to signal or wait for (a run
    against a --target-url: what it starts, it starts as a new interpreter)."""
    return fork_server().spawn(args)


def run_main(*args: str) -> subprocess.CompletedProcess:
    """The CLI in this process, for commands that start no run (usage errors, help, lists):
    the same `main`, without a new interpreter's start-up each time."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return subprocess.CompletedProcess(args, code, stdout.getvalue(), stderr.getvalue())


def summary_of(output: Path) -> dict:
    return json.loads((output / "last-run.json").read_text(encoding="utf-8"))


def failed_rules(output: Path) -> set[str]:
    return {r["rule"] for r in summary_of(output)["results"] if r["outcome"] == "failed"}


@pytest.fixture
def cli():
    return run_cli
