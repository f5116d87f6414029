"""The CLI for the project's own tests, started by forking one interpreter that has already
imported what a run needs, instead of a new interpreter per call.

A fresh `python -m transfer_conformance.cli` spends more than a second of CPU importing pytest,
Hypothesis, Schemathesis and the contract before it sends anything; the self-test starts about a
hundred runs on two cores. The server here imports all that once per test worker, then forks a
child per call: each child is a fresh process (its own state, exit code, output files, process
group), started in milliseconds. The server itself never runs anything and starts no thread, so
a fork copies an interpreter at rest.

Protocol, one JSON line each way on standard input and output:
  request  {"argv": [...], "cwd": "...", "env": {...}, "stdout": "file", "stderr": "file"}
  answers  {"pid": N}, then {"status": N, "peak_kb": N} when the child has ended
With "spawn": true the server answers {"pid": N} alone and takes the next request at once (a
run the test signals or runs beside another, as it would a subprocess.Popen); {"reap": N} then
answers {"status": N} once that run has ended.
The server exits when its standard input closes (the test worker ended).

The embedded reference a run starts is forked too, and so is discover's nested run (Zygote): a
new interpreter for `python -m reference_target` spends half a second of CPU on imports, and
most runs of the self-test start one.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from typing import NoReturn


def warm() -> None:
    """Import what every run imports, and fill the caches every run fills the same way."""
    import allure_pytest.plugin  # noqa: F401 - loaded by pytest in every run
    import schemathesis  # noqa: F401 - the contract suite's library
    import xmlschema  # noqa: F401
    from hypothesis.internal.charmap import categories, charmap

    import transfer_conformance.cli  # noqa: F401
    from transfer_contract.catalogue import rules
    from transfer_contract.spec import operations
    from transfer_contract.xmlcodec import xsd_codec

    rules()
    operations()
    xsd_codec()
    # the Unicode tables every text strategy reads on its first draw
    charmap()
    categories()
    # what `python -m reference_target` imports, uvicorn's lazily loaded parts included
    import uvicorn.loops.uvloop
    import uvicorn.protocols.http.httptools_impl  # noqa: F401

    import reference_target.__main__  # noqa: F401


class Zygote:
    """A process forked from a run's own before the run begins, while it is still at rest (no
    thread, no pytest, no open file of the run). It forks what the run would start as a new
    interpreter: each embedded reference, and each nested CLI run (discover's run of the
    decision rules). So each is a fresh copy of the warm interpreter, never of a run in
    progress.

    It is in the run's process group (a timeout kills it with the run), and it exits when the
    run does (its socket closes). Standard streams travel over the socket as file descriptors."""

    def __init__(self, connected: socket.socket | None = None) -> None:
        self.lock = threading.Lock()
        if connected is not None:
            self.socket = connected
            return
        # one message per request and per answer, however long
        self.socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            self.socket.close()
            zygote(theirs)
        theirs.close()

    @classmethod
    def at(cls, path: str) -> Zygote:
        """The zygote the fork server started for a test worker, listening at ``path``."""
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        connection.connect(path)
        return cls(connection)

    def ask(self, request: dict, fds: list[int]) -> tuple[dict, list[int]]:
        with self.lock:
            socket.send_fds(self.socket, [json.dumps(request).encode()], fds)
            answer, got, _, _ = socket.recv_fds(self.socket, 1024, 2)
        return json.loads(answer), got

    def reference(self, argv: list[str], stderr_fd: int, env: dict[str, str]) -> ForkedReference:
        answer, fds = self.ask({"kind": "reference", "argv": argv, "env": env}, [stderr_fd])
        return ForkedReference(answer["pid"], *fds)

    def cli(self, argv: list[str], stdout_fd: int, stderr_fd: int) -> int:
        """Run the CLI with ``argv`` to its end; its exit code."""
        request = {"kind": "cli", "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
        answer, _ = self.ask(request, [stdout_fd, stderr_fd])
        return answer["status"]


def zygote(requests: socket.socket) -> None:
    """The zygote's loop: a fork per request, until the run's end of the socket closes."""
    while True:
        request, fds, _, _ = socket.recv_fds(requests, 1 << 20, 2)
        if not request:
            os._exit(0)
        asked = json.loads(request)
        # references that ended since the last request
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if asked["kind"] == "cli":
            pid = os.fork()
            if pid == 0:
                requests.close()
                cli(asked["argv"], asked["cwd"], asked["env"], (os.open(os.devnull, os.O_RDONLY), *fds))
            for fd in fds:
                os.close(fd)
            _, status = os.waitpid(pid, 0)
            requests.sendall(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode())
            continue
        child_in, run_in = os.pipe()
        run_out, child_out = os.pipe()
        pid = os.fork()
        if pid == 0:
            requests.close()
            os.close(run_in)
            os.close(run_out)
            serve_reference(asked["argv"], (child_in, child_out, fds[0]), asked["env"])
        for fd in (child_in, child_out, fds[0]):
            os.close(fd)
        socket.send_fds(requests, [json.dumps({"pid": pid}).encode()], [run_in, run_out])
        os.close(run_in)
        os.close(run_out)


def standard_streams(fds: tuple[int, int, int], env: dict[str, str]) -> None:
    """In a forked child: these descriptors become standard input, output and error, and
    ``env`` the environment; the signals a run handles are back to their defaults."""
    for number, fd in enumerate(fds):
        if fd != number:
            os.dup2(fd, number)
            os.close(fd)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(env)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own


def serve_reference(argv: list[str], fds: tuple[int, int, int], env: dict[str, str]) -> None:
    """In a reference's process: become `python -m reference_target ARGV`."""

    def reference() -> None:
        standard_streams(fds, env)
        from reference_target.__main__ import main

        sys.argv = ["reference_target", *argv]
        main()

    become(reference)


def become(program: Callable[[], None]) -> NoReturn:
    """Run ``program`` as this process's whole life: its exit code as an interpreter would give
    it (SystemExit's, 1 after a crash, printed as the interpreter would print it, else 0)."""
    code = 1
    try:
        program()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


class ForkedReference:
    """A forked reference as `EmbeddedReference` uses a `subprocess.Popen`: its standard input
    and output, poll, terminate, kill and communicate. It is the zygote's child, not the run's,
    so its end is seen through a pidfd; its exit code is not known (0, or the signal sent)."""

    def __init__(self, pid: int, stdin: int, stdout: int) -> None:
        self.pid = pid
        self.stdin = os.fdopen(stdin, "w")
        self.stdout = os.fdopen(stdout, "r")
        self.returncode: int | None = None
        self.sent = 0
        try:
            self.pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            self.pidfd, self.returncode = None, 0

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            assert self.pidfd is not None
            ended, _, _ = select.select([self.pidfd], [], [], timeout)
            if not ended:
                raise subprocess.TimeoutExpired("python -m reference_target", timeout or 0)
            os.close(self.pidfd)
            self.pidfd, self.returncode = None, -self.sent
        return self.returncode

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            self.sent = signum
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        for stream in (self.stdin, self.stdout):
            stream.close()
        self.wait(timeout)
        return "", ""


def fork_references(forks: Callable[[], Zygote]) -> None:
    """Have `EmbeddedReference` start its server through the zygote ``forks`` gives."""
    from reference_target import embedded

    def spawn(self: embedded.EmbeddedReference) -> None:
        argv = ["--seed", str(self.seed_path), "--exit-with-parent"]
        for fault in self.faults:
            argv += ["--fault", fault]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = forks().reference(argv, self.log.fileno(), env)  # type: ignore[assignment]

    embedded.EmbeddedReference.spawn = spawn  # type: ignore[method-assign]


def fork_from(forks: Zygote) -> None:
    """Have this run start its embedded references and nested CLI runs through ``forks``."""
    fork_references(lambda: forks)
    new_interpreter = subprocess.run
    cli_prefix = [sys.executable, "-m", "transfer_conformance.cli"]

    def run(command, *args, **kwargs):
        # Only `run_command`'s shape with captured text output (discover's run), as a fork;
        # everything else (the report's npm, a user's command) as it was.
        if list(command[:3]) != cli_prefix or args or set(kwargs) - {"capture_output", "text", "check"}:
            return new_interpreter(command, *args, **kwargs)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            code = forks.cli(list(command[3:]), out.fileno(), err.fileno())
            streams = []
            for stream in (out, err):
                stream.seek(0)
                streams.append(stream.read().decode("utf-8", "replace"))
        if kwargs.get("check") and code:
            raise subprocess.CalledProcessError(code, command, *streams)
        return subprocess.CompletedProcess(command, code, *streams)

    subprocess.run = run


def cli(
    argv: list[str], cwd: str, env: dict[str, str], fds: tuple[int, int, int], zygote: bool = True
) -> None:
    """In a forked child: become `transfer-conformance ARGV` in ``cwd``; without ``zygote``,
    what the run starts is started as the CLI starts it (a new interpreter)."""

    def program() -> None:
        os.chdir(cwd)
        standard_streams(fds, env)
        from transfer_conformance.cli import main

        if zygote:
            fork_from(Zygote())
        sys.argv = ["transfer-conformance", *argv]
        main(argv)

    become(program)


def child(request: dict) -> None:
    """In the forked child: a process group of its own, then the CLI with the request's folder,
    environment and files. A spawned run gets no zygote: its only children are its own (the
    lanes a test counts), as a run started as a new interpreter has."""
    os.setpgid(0, 0)
    streams = [os.open(os.devnull, os.O_RDONLY)]
    streams += [
        os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC) for name in ("stdout", "stderr")
    ]
    cli(request["argv"], request["cwd"], request["env"], tuple(streams), not request.get("spawn"))  # type: ignore[arg-type]


def worker_zygote(path: str) -> int:
    """A zygote for the test worker itself (the references its tests start), listening at
    ``path``; it serves the first connection and ends when that closes. Not waited for: it
    lives as long as the worker."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(1)
    pid = os.fork()
    if pid == 0:
        try:
            # the server's own pipes stay the server's
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            connection, _ = listener.accept()
            listener.close()
            zygote(connection)
        finally:
            os._exit(1)
    listener.close()
    return pid


def serve() -> None:
    warm()
    # What every child inherits stays shared: a child's collector never writes to those pages
    # (Hypothesis collects all garbage once per thread of a run).
    gc.freeze()
    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        answers.flush()
        if "zygote" in request:
            answers.write(json.dumps({"pid": worker_zygote(request["zygote"])}) + "\n")
            answers.flush()
            continue
        if "reap" in request:
            # a spawned run, which the test saw end (its pidfd): its exit code
            _, status, usage = os.wait4(request["reap"], 0)
            answers.write(json.dumps({"status": os.waitstatus_to_exitcode(status)}) + "\n")
            answers.flush()
            continue
        pid = os.fork()
        if pid == 0:
            child(request)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        if request.get("spawn"):
            # the test signals it, sees it end and asks for its exit code ("reap") meanwhile
            continue
        _, status, usage = os.wait4(pid, 0)
        ended = {"status": os.waitstatus_to_exitcode(status), "peak_kb": usage.ru_maxrss}
        answers.write(json.dumps(ended) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve()
