"""The hostile-target catalogue: against each, a run ends within its bound with the expected exit
code, writes its summary and JUnit, leaves nothing open on the target, sends nothing to another
origin, stays within its memory, and no secret reaches any output in any encoding."""

import os
import resource
import select
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from reference_target.embedded import EmbeddedReference
from tests import hostile_targets as hostile
from tests.conftest import run_cli, spawn_cli
from transfer_conformance.http.masking import encoded_forms
from transfer_conformance.run.summary import RunSummary
from transfer_contract.paths import TARGETS

pytestmark = pytest.mark.run

# Canary secrets with the characters that break naive quoting and matching.
CANARIES = {
    "ref-pass-tara-51c3": "c@n/ary:pa=ss!T 'q\"&<x>",
    "ref-pass-rico-9a07": "c@n/ary:pa=ss!R +%20?#",
    "ref-pass-ada-3f88": "c@n/ary:pa=ss!A ünï",
    "refkey-7d41c09a": "k3y/:=@!canary+%&",
}
# Tight bounds, so that every hostile case ends in seconds.
BOUNDS = """
request_timeout_s = 1
test_timeout_s = 8
max_time_s = 25
retry_after_cap_s = 1
retry_budget_s = 3
max_response_bytes = 4194304
"""
MEMORY_MB = 500


@dataclass(frozen=True)
class Case:
    behaviour: str
    exits: tuple[int, ...]
    wall_s: float
    scheme: str = "http"
    # The rules a run judges once past set-up: those the behaviour concerns, so that the run
    # ends in seconds even through the proxy (trickle judges them all, against the deadline).
    rules: tuple[str, ...] = ("transfer-success-status",)
    report: bool = False


ECHO_RULES = ("transfer-success-status", "bearer-required", "decision-error-body", "openapi-contract")
XML_RULES = ("xml-responses-match-json", "xml-responses-valid", "xml-json-equivalent")
CATALOGUE = {
    "trickle": Case("trickle", (3,), 60, rules=()),
    "hang": Case("hang", (3,), 40),
    "huge body": Case("huge_body", (3,), 40),
    "endless chunks": Case("endless_chunks", (3,), 40),
    "200 MB answer to a contract call": Case("huge_agents_list", (3,), 40, rules=("openapi-contract",)),
    "redirect to another origin": Case("redirect", (3,), 40),
    "foreign session link": Case("foreign_link", (3,), 40),
    "echoed secrets": Case("echoes", (0, 1), 60, rules=ECHO_RULES, report=True),
    "Retry-After of six hours": Case("retry_after", (0,), 60),
    "garbage bytes": Case("garbage", (3,), 40),
    "TLS to a plain port": Case("passthrough", (3,), 40, scheme="https"),
    "XML entity bombs": Case("xml_bombs", (1,), 60, rules=XML_RULES),
    "5xx storm": Case("server_error_storm", (1,), 60, rules=("transfer-success-status", "text-optional")),
    "500 then a reset connection": Case("server_error_then_reset", (1,), 60, rules=("text-optional",)),
}


def canary_profile(folder: Path) -> Path:
    text = (TARGETS / "reference.toml").read_text(encoding="utf-8")
    for real, canary in CANARIES.items():
        text = text.replace(f'"{real}"', '"' + canary.replace("\\", "\\\\").replace('"', '\\"') + '"')
    text = text.replace("request_timeout_s = 10", "")
    path = folder / "hostile.toml"
    path.write_text(BOUNDS + text, encoding="utf-8")
    return path


def timed_run(profile: Path, url: str, output: Path, *options: str, timeout: float):
    """A run of the profile against ``url`` into ``output``; what it did, and its wall time."""
    started = time.perf_counter()
    done = run_cli(
        "run",
        "--target",
        str(profile),
        "--target-url",
        url,
        "--output",
        str(output),
        *options,
        timeout=timeout,
    )
    return done, time.perf_counter() - started


def behaviour_for(name: str, elsewhere: str):
    if name == "redirect":
        return hostile.redirect_elsewhere(elsewhere)
    if name == "foreign_link":
        return hostile.foreign_session_link(elsewhere)
    if name == "echoes":
        return hostile.echoes(list(CANARIES.values()))
    return getattr(hostile, name)


def outputs(folder: Path, console: str):
    yield "console", console
    for path in folder.rglob("*"):
        if path.is_file():
            yield str(path.relative_to(folder)), path.read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_run_against_a_hostile_target_ends_bounded_and_leaks_nothing(name, tmp_path):
    case = CATALOGUE[name]
    profile = canary_profile(tmp_path)
    output = tmp_path / "reports"
    with (
        EmbeddedReference(seed_path=profile) as reference,
        hostile.Recorder() as elsewhere,
        hostile.HostileTarget(reference.url, behaviour_for(case.behaviour, elsewhere.url)) as proxy,
    ):
        url = proxy.url.replace("http://", f"{case.scheme}://")
        done, wall = timed_run(
            profile,
            url,
            output,
            *([] if case.report else ["--no-report"]),
            "--no-shrink",
            "--examples",
            "2",
            *[argument for rule in case.rules for argument in ("--rule", rule)],
            timeout=case.wall_s + 60,
        )
        state = requests.get(f"{reference.url}/_reference/state", timeout=5).json()
        bearers = proxy.bearers()
    console = done.stdout + done.stderr
    assert done.returncode in case.exits, console[-3000:]
    # A crash of the tool itself goes to stderr (pytest's own failure report goes to stdout).
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert wall < case.wall_s, f"{wall:.1f} s"
    assert state["open_chats"] == 0, state
    assert not elsewhere.target.requests, "a request reached another origin"
    summary = RunSummary.load(output / "last-run.json")
    assert summary is not None and (summary.results or summary.setup_error)
    if summary.results:
        assert (output / "junit.xml").is_file()
    if case.report:
        assert (output / "html" / "index.html").is_file(), console[-2000:]
    secrets = [*CANARIES.values(), *bearers]
    forms = {form for secret in secrets for form in encoded_forms(secret)}
    leaks = [(where, form) for where, text in outputs(output, console) for form in forms if form in text]
    assert not leaks, leaks[:5]
    peak_mb = max(done.peak_mb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    assert peak_mb < MEMORY_MB, f"{peak_mb:.0f} MB"


@pytest.mark.parametrize(
    ("signum", "transfer", "lanes"),
    [(signal.SIGTERM, 6, 1), (signal.SIGINT, 1, 1), (signal.SIGTERM, 6, 2)],
    ids=["SIGTERM-in-a-test", "SIGINT-in-set-up", "SIGTERM-to-a-run-in-lanes"],
)
def test_stopped_run_cleans_up_and_writes_its_evidence(signum, transfer, lanes, tmp_path):
    """A run stopped mid-way ends its chats, logs out, writes summary, JUnit and report, with
    the unfinished tests broken, and exits 3. In lanes, the run passes the stop to every lane,
    and each cleans up its own agents' chats and logins."""
    profile = canary_profile(tmp_path)
    output = tmp_path / "reports"
    reached = threading.Event()
    with (
        EmbeddedReference(seed_path=profile) as reference,
        hostile.HostileTarget(reference.url, hostile.signal_on_transfer(reached, transfer)) as proxy,
    ):
        # Forked with SIGINT as a terminal gives it (a self-test started in the background,
        # `bin/self-test &`, has it ignored, and a new interpreter would keep that).
        process = spawn_cli(
            *("run", "--target", str(profile), "--target-url", proxy.url),
            *("--output", str(output), "--lanes", str(lanes)),
        )
        assert reached.wait(60), "the run never reached a transfer"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=120)
        state = requests.get(f"{reference.url}/_reference/state", timeout=5).json()
    assert process.returncode == 3, stdout[-2000:] + stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    # Every session logged out and every chat the run knew of ended. In lanes, the stop reaches
    # one lane as it sends a transfer; another may be waiting on a chat request, and a chat
    # whose id never came back cannot be ended (at most one per other lane).
    assert state["sessions"] == 0 and state["open_chats"] <= lanes - 1, state
    summary = RunSummary.load(output / "last-run.json")
    assert summary is not None
    broken = [r for r in summary.results if r.outcome == "broken"]
    assert broken and all("interrupted" in r.message for r in broken if r.message.startswith("not run"))
    assert (output / "junit.xml").is_file()
    assert (output / "html" / "index.html").is_file(), stdout[-2000:]


# Default settings but a 2 s request timeout (the default is 10 s; what ends the run is the
# same): a dead or trickling target must end the run broken within a minute, not let every
# test wait out its own deadline.
DEFAULT_BOUNDS = "request_timeout_s = 2\n"


@pytest.mark.parametrize(
    ("behaviour", "names"),
    [("trickle_everything", "took longer than 2 s"), ("dies_after_transfers", "stopped answering")],
)
def test_a_dead_target_ends_the_run_broken_within_a_minute(behaviour, names, tmp_path):
    profile = canary_profile(tmp_path)
    profile.write_text(DEFAULT_BOUNDS + profile.read_text().replace(BOUNDS, ""), encoding="utf-8")
    output = tmp_path / "reports"
    with (
        EmbeddedReference(seed_path=profile) as reference,
        hostile.HostileTarget(reference.url, getattr(hostile, behaviour)) as proxy,
    ):
        done, wall = timed_run(profile, proxy.url, output, "--no-report", timeout=120)
    console = done.stdout + done.stderr
    assert done.returncode == 3, console[-3000:]
    assert wall < 60, f"{wall:.1f} s"
    assert names in console, console[-3000:]
    assert "Traceback" not in done.stderr
    # said in words once, never as pytest's stop banner with an exception class
    assert "_pytest" not in console and "Exit:" not in console, console[-3000:]


def wait_for_end(pids: list[int], timeout: float) -> bool:
    """Whether every process of ``pids`` ended within ``timeout`` (not our children: pidfds)."""
    for pid in pids:
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        ended, _, _ = select.select([handle], [], [], timeout)
        os.close(handle)
        if not ended:
            return False
    return True


@pytest.mark.parametrize(
    ("lanes", "whole_group"),
    [(1, True), (2, False), (2, True)],
    ids=["run-killed", "run-in-lanes-killed", "run-and-its-lanes-killed"],
)
def test_a_killed_run_leaves_nothing_cleanup_cannot_end(lanes, whole_group, tmp_path):
    """SIGKILL a run mid-way: no clean-up of its own runs, chats stay open on the target. The
    ledger it wrote as it went lets `cleanup` end exactly those (in lanes, each lane's with that
    lane's agents), and a second cleanup finds nothing to do. A run in lanes killed alone: its
    lanes see it gone, stop as a stopped run does, and leave nothing open."""
    profile = canary_profile(tmp_path)
    output = tmp_path / "reports"
    reached, hold = threading.Event(), threading.Event()
    with (
        EmbeddedReference(seed_path=profile) as reference,
        hostile.HostileTarget(reference.url, hostile.signal_on_transfer(reached, 6, hold)) as proxy,
    ):
        # in a process group of its own, which the kill of the whole group reaches
        process = spawn_cli(
            *("run", "--target", str(profile), "--target-url", proxy.url),
            *("--output", str(output), "--no-report", "--lanes", str(lanes)),
        )
        assert reached.wait(60), "the run never reached a transfer"
        forked = [
            int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        ]
        if whole_group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.communicate(timeout=60)
        hold.set()
        assert len(forked) == (lanes if lanes > 1 else 0), forked
        assert wait_for_end(forked, 60), "the lanes outlived their run"
        left = requests.get(f"{reference.url}/_reference/state", timeout=5).json()
        cleanup = [
            "cleanup",
            "--target",
            str(profile),
            "--target-url",
            reference.url,
            "--output",
            str(output),
        ]
        done = run_cli(*cleanup)
        after = requests.get(f"{reference.url}/_reference/state", timeout=5).json()
        again = run_cli(*cleanup)
    assert done.returncode == 0, done.stdout + done.stderr
    assert again.returncode == 0 and "nothing to clean up" in again.stdout
    if not whole_group:
        # The lanes stop as a stopped run's do: one may be stopped with a chat request in
        # flight, and a chat whose id never came back cannot be ended (at most one per lane
        # but the one held on its transfer).
        assert left["open_chats"] <= lanes - 1 and left["sessions"] == 0, left
        return
    assert left["open_chats"] > 0, left
    assert "ended" in done.stdout and "agents logged out" in done.stdout, done.stdout
    assert ("(agent set 2)" in done.stdout) == (lanes > 1), done.stdout
    # the killed run's own logins lapse; cleanup's own are gone
    assert after["bearers"] == left["bearers"], (left, after)
    # A chat whose request was in flight at the kill is open on the target, but its id reached
    # no ledger. The kill lands while one lane waits on a transfer: each other lane may have had
    # a chat request in flight. Every chat a ledger lists has ended.
    assert after["open_chats"] <= lanes - 1 and after["ringing_chats"] <= lanes - 1, (left, after)


@pytest.mark.parametrize("lanes", [1, 2])
def test_a_slow_target_is_told_apart_from_a_dead_one_before_the_tests_run(tmp_path, lanes):
    """Answers that come, but 150 ms late: the run says so after set-up, with the measured pace
    and what it means for the run's length, and goes on to a verdict. A run in lanes says it
    once, for the whole run."""
    with (
        EmbeddedReference() as reference,
        hostile.HostileTarget(reference.url, hostile.delayed(0.15)) as proxy,
    ):
        done = run_cli(
            "run",
            "--target-url",
            proxy.url,
            "--rule",
            "transfer-success-status",
            "--no-report",
            "--examples",
            "1",
            "--lanes",
            str(lanes),
            "--output",
            str(tmp_path),
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    said = [line.split("| ", 1)[-1] for line in done.stdout.splitlines() if "slow target: " in line]
    assert len(said) == 1, said
    line = said[0]
    pace_ms = int(line.split()[2])
    assert 150 <= pace_ms < 1000 and "min at this pace" in line, line
    assert ("in 2 lanes" in line) == (lanes == 2), line
    assert "misbehaved" not in done.stdout.lower()
