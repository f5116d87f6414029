"""The self-test's fork server (tests/forkserver.py) behaves as a new process per call would:
the caller's environment at call time, exit codes, a timeout that ends the whole run and
leaves the server able to take the next call, and nothing the run forked outlives it; a run
spawned beside the test takes signals and gives its exit code as a subprocess would."""

import os
import select
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, spawn_cli

pytestmark = pytest.mark.run


def test_each_call_gets_the_callers_environment_and_exit_code(monkeypatch, tmp_path):
    monkeypatch.setenv("TRANSFER_FORK_CANARY", "set-after-the-server-started")
    profile = tmp_path / "staging.toml"
    profile.write_text(
        'name = "staging"\nbase_url = "http://127.0.0.1:9"\naccount_id = "1"\nvisitor_skill = "Sales"\n'
        'visitor_app_key_env = "TRANSFER_FORK_CANARY"\n'
        '[agents.transferring]\nusername = "a"\npassword_env = "TRANSFER_FORK_CANARY"\nid = 1\n'
        '[agents.receiving]\nusername = "b"\npassword_env = "TRANSFER_FORK_MISSING"\nid = 2\n'
        "[skills]\navailable = 2\nunavailable = 3\nunknown = 4\nunknown_agent = 5\n",
        encoding="utf-8",
    )
    done = run_cli("run", "--target", str(profile), "--no-report", "--output", str(tmp_path / "out"))
    # the variable set after the server started is seen; the one never set is named
    assert done.returncode == 2, done.stdout + done.stderr
    assert "environment variables not set: TRANSFER_FORK_MISSING" in done.stderr
    assert "TRANSFER_FORK_CANARY" not in done.stderr
    assert os.environ["TRANSFER_FORK_CANARY"]


def test_a_timeout_ends_the_run_and_the_server_takes_the_next_call(tmp_path):
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli("run", "--rule", "routing-model", "--no-report", "--output", str(tmp_path / "a"), timeout=1)
    done = run_cli("run", "--rule", "nope", "--output", str(tmp_path / "b"))
    assert done.returncode == 2 and "unknown rule nope" in done.stderr


def test_a_spawned_run_goes_on_beside_the_test_and_gives_its_exit_code(tmp_path):
    slow = spawn_cli("run", "--rule", "routing-model", "--no-report", "--output", str(tmp_path / "a"))
    # the server takes other calls while the spawned run goes on
    quick = spawn_cli("run", "--rule", "nope", "--output", str(tmp_path / "b"))
    assert quick.wait(60) == 2 and "unknown rule nope" in quick.communicate()[1]
    assert run_cli("run", "--rule", "nope", "--output", str(tmp_path / "c")).returncode == 2
    with pytest.raises(subprocess.TimeoutExpired):
        slow.wait(0)
    slow.kill()
    assert slow.wait(60) == -signal.SIGKILL


def processes_in_group(group: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # the fields after the command's closing parenthesis: state, ppid, pgrp
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            found.append(int(stat.parent.name))
    return found


def test_the_forked_reference_serves_the_run_and_ends_with_it(tmp_path):
    done = run_cli("run", "--rule", "text-optional", "--no-report", "--output", str(tmp_path))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 tests: 1 passed" in done.stdout
    # The zygote and the reference it forked are in the run's process group; they end when the
    # run's end of their socket and pipes closes.
    for pid in processes_in_group(done.pid):
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        ended, _, _ = select.select([handle], [], [], 10)
        os.close(handle)
        assert ended, f"process {pid} of the run's group still lives 10 s after the run ended"
