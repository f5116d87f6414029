"""`replay` of a failing test against the faulty target reproduces it, against the reference it
does not; the replayed chats end and the replaying agents log out."""

import socket

import pytest
import requests

from reference_target.embedded import EmbeddedReference
from tests.conftest import run_cli

pytestmark = [pytest.mark.run, pytest.mark.xdist_group("replay")]


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay")
    done = run_cli(
        "run",
        "--rule",
        "agent-takes-precedence",
        "--fault",
        "skill_wins_over_agent",
        "--no-report",
        "--output",
        str(folder),
    )
    assert done.returncode == 1, done.stdout[-2000:]
    return folder


@pytest.mark.parametrize(
    ("faults", "exit_code", "verdict"),
    [
        (("skill_wins_over_agent",), 1, "the failure REPRODUCES"),
        ((), 0, "the failure does not reproduce"),
    ],
    ids=["faulty-target", "reference"],
)
def test_replay_says_whether_the_failure_reproduces(failing_run, faults, exit_code, verdict):
    with EmbeddedReference(faults) as served:
        done = run_cli(
            "replay", "agent-takes-precedence", "--output", str(failing_run), "--target-url", served.url
        )
        state = requests.get(f"{served.url}/_reference/state", timeout=5).json()
    assert done.returncode == exit_code, done.stdout[-2000:] + done.stderr[-2000:]
    assert verdict in done.stdout
    assert state["open_chats"] == 0 and state["bearers"] == 0, state


def test_replay_of_a_test_that_did_not_fail_is_a_clear_error(failing_run):
    done = run_cli("replay", "text-optional", "--output", str(failing_run))
    assert done.returncode == 2 and "no failed test or rule 'text-optional'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_folder_without_a_run_is_refused_before_any_target_is_touched(tmp_path):
    """Nothing to replay: a usage error (exit 2), and no set-up is tried (the port is closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    done = run_cli("replay", "text-optional", "--output", str(tmp_path), "--target-url", closed)
    assert done.returncode == 2 and "no last-run.json" in done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_replay_defaults_to_the_run_s_own_target_and_names_it(failing_run):
    """No --target: the run's target is the embedded reference with the fault, so it reproduces."""
    done = run_cli("replay", "agent-takes-precedence", "--output", str(failing_run))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "the embedded reference with skill_wins_over_agent" in done.stdout
    assert "the failure REPRODUCES" in done.stdout


def test_replay_against_a_run_s_target_url_that_is_gone_is_broken(tmp_path):
    """A run against --target-url replays there by default; the target gone is exit 3, named."""
    with EmbeddedReference(("skill_wins_over_agent",)) as served:
        url = served.url
        done = run_cli(
            "run",
            "--target-url",
            url,
            "--rule",
            "agent-takes-precedence",
            "--no-report",
            "--output",
            str(tmp_path),
        )
    assert done.returncode == 1, done.stdout[-2000:]
    again = run_cli("replay", "agent-takes-precedence", "--output", str(tmp_path))
    assert again.returncode == 3, again.stdout[-2000:] + again.stderr[-2000:]
    assert url in again.stdout + again.stderr
    assert "Traceback" not in again.stderr


def test_a_generated_life_replays_from_its_first_chat(tmp_path):
    """A routing-model failure keeps its whole life, so replay re-sends it from the first chat
    request: it reproduces on the faulty target, not on the reference."""
    done = run_cli(
        "run",
        "--rule",
        "routing-model",
        "--fault",
        "second_hop_noop",
        "--no-shrink",
        "--no-report",
        "--output",
        str(tmp_path),
    )
    assert done.returncode == 1, done.stdout[-2000:]
    for target, exit_code, verdict in (
        ([], 1, "the failure REPRODUCES"),
        (["--target", "reference"], 0, "the failure does not reproduce"),
    ):
        replayed = run_cli("replay", "routing-model", "--output", str(tmp_path), *target)
        assert replayed.returncode == exit_code, replayed.stdout[-2000:] + replayed.stderr[-2000:]
        assert verdict in replayed.stdout
        assert "the visitor requests a chat" in replayed.stdout
