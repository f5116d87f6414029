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
The server exits when its standard input closes (the test worker ended).
"""

from __future__ import annotations

import json
import os
import signal
import sys


def warm() -> None:
    """Import what every run imports, and fill the caches every run fills the same way."""
    import allure_pytest.plugin  # noqa: F401 - loaded by pytest in every run
    import schemathesis  # noqa: F401 - the contract suite's library
    import xmlschema  # noqa: F401

    import transfer_conformance.cli  # noqa: F401
    from transfer_contract.catalogue import rules
    from transfer_contract.spec import operations
    from transfer_contract.xmlcodec import xsd_codec

    rules()
    operations()
    xsd_codec()


def child(request: dict) -> None:
    """In the forked child: become the CLI with the request's folder, environment and files."""
    os.setpgid(0, 0)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    with open(os.devnull, "rb") as devnull:
        os.dup2(devnull.fileno(), 0)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        with open(request[name], "wb") as stream:
            os.dup2(stream.fileno(), fd)
    code = 1
    try:
        from transfer_conformance.cli import main

        sys.argv = ["transfer-conformance", *request["argv"]]
        main(request["argv"])
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:
        # a crash is printed as the interpreter would print it, and the exit code is 1
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    warm()
    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        answers.flush()
        pid = os.fork()
        if pid == 0:
            child(request)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status, usage = os.wait4(pid, 0)
        ended = {"status": os.waitstatus_to_exitcode(status), "peak_kb": usage.ru_maxrss}
        answers.write(json.dumps(ended) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve()
