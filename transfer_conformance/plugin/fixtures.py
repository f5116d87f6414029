"""The target and the fixtures the suites use: the target (logged in and on line), the rule of
a module, and one scope per test. This plugin owns the harness: it sets it up on first use and,
at the end of the run, ends its chats, logs its agents out and stops the embedded reference."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest

from transfer_conformance.errors import ExitCode
from transfer_conformance.http.client import RecordingClient, TargetMisbehaved, TargetUnreachable
from transfer_conformance.http.har import CLEAN_UP, TrafficRecorder
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.plugin.state import INTERFERENCE_MARK, RunState, state_of
from transfer_conformance.run.lanes import took_token
from transfer_conformance.run.ledger import LEDGER_FILE, Ledger, read_leftovers
from transfer_conformance.run.summary import HAR_FILE, PREVIOUS_FILE, RunSummary
from transfer_conformance.target_api.api import ChatApi, client_for, point_at
from transfer_conformance.target_api.calls import SetupError
from transfer_conformance.target_api.checks import RuleCheck
from transfer_conformance.target_api.harness import Harness

# A request slower than this on average is a far target: the run says its pace up front.
SLOW_REQUEST_S = 0.1
# Requests a whole run of each profile sends on the reference (measured), when no earlier run
# in the output folder says how many this target takes.
TYPICAL_REQUESTS = {"dev": 2500, "ci": 3900, "nightly": 60000}


# A run's wall time is less than its requests times their pace: some requests overlap (calls
# at once, endings beside the next chat request), and the routing model's lives end at its
# test's deadline, so a slower target gets fewer of them. One lane's ci run through a proxy
# adding 300 ms, paced at 334 ms in set-up, took 656 s: 0.50 of 3,900 requests at that pace;
# at 100 ms, 317 s: about 0.75 (benchmarks/latency.py).
OVERLAP = 0.6


def pace_notice(state: RunState, client: RecordingClient) -> str:
    """A line saying the target is slow and what that means for this run, or '' when it is not:
    a slow target is told apart from a dead one early, in words, with its measured pace. A run
    in lanes says it once (the first lane to find the target slow), for the whole run."""
    options = state.options
    if not client.sent:
        return ""
    pace = client.waited_s / client.sent
    if pace < SLOW_REQUEST_S:
        return ""
    if options.lane_token is not None and not took_token(options.lane_token):
        return ""
    lanes = max(1, options.lanes)
    if lanes == 1:
        previous = RunSummary.load(options.output / PREVIOUS_FILE)
    else:
        # the run's summary before this one (a lane's folder holds only its share of it)
        previous = RunSummary.load(options.lane_weights) if options.lane_weights else None
    same = previous is not None and previous.run_profile == options.profile and previous.requests_sent
    requests = (
        previous.requests_sent
        if same and previous
        else TYPICAL_REQUESTS.get(options.profile, TYPICAL_REQUESTS["ci"])
    )
    budget = options.max_time or state.profile.max_time_s
    estimate = requests * pace * OVERLAP / lanes
    where = f" in {lanes} lanes" if lanes > 1 else ""
    return (
        f"slow target: {pace * 1000:.0f} ms a request during set-up; a {options.profile} run sends about "
        f"{requests:,} requests, about {max(1, round(estimate / 60))} min at this pace{where} "
        f"(the run stops at {budget / 60:.0f} min)"
    )


def _say(config: pytest.Config, text: str) -> None:
    """A line on the console now, past pytest's capture (said once, before the tests run)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{text}", flush=True)


def _start_harness(state: RunState, config: pytest.Config) -> Harness:
    profile = state.profile
    if state.embedded is not None:
        point_at(profile, state.embedded)
    client = client_for(profile)
    client.run_deadline = state.deadline
    state.traffic = TrafficRecorder(state.options.output / HAR_FILE)
    client.listeners.append(state.traffic.listen)
    harness = Harness(ChatApi(profile, client), profile.ids())
    # Known to the run before anyone logs in: a set-up that fails or is interrupted half-way
    # still logs out whoever it logged in.
    state.harness = harness
    # A run killed before its clean-up left chats open: its ledger in this folder says which,
    # and they are ended before this run opens any (`transfer-conformance cleanup` does the same).
    ledger_path = state.options.output / LEDGER_FILE
    leftovers = read_leftovers(ledger_path) if not profile.embedded or state.options.target_url else None
    state.ledger = Ledger(ledger_path)
    harness.ledger = state.ledger.note
    harness.bring_agents_online()
    if leftovers is not None and leftovers.chats:
        ended = harness.end_leftovers(leftovers.chats)
        _say(config, f"ended {ended} chat(s) an earlier run on {state.options.output} left open")
    notice = pace_notice(state, client)
    if notice:
        _say(config, notice)
    return harness


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Harness:
    """The target, logged in and on line; a failure here ends the run as broken (exit 3)."""
    state = state_of(request.config)
    if state.harness is None:
        if state.setup_error:
            pytest.exit(state.setup_error, returncode=ExitCode.BROKEN)
        profile = state.profile
        where = f"target {profile.name} at {profile.base_url or '(embedded)'}"
        try:
            _start_harness(state, request.config)
        except TargetMisbehaved as error:
            state.setup_error = f"{where} answered set-up in a way the suite will not follow: {error}"
        except TargetUnreachable as error:
            state.setup_error = f"{where} is unreachable: {error}"
        except (SetupError, RuntimeError) as error:
            state.setup_error = f"{where}: set-up failed: {REGISTRY.mask(str(error))}"
        if state.setup_error:
            pytest.exit(state.setup_error, returncode=ExitCode.BROKEN)
    assert state.harness is not None
    return state.harness


@pytest.fixture
def rule(request: pytest.FixtureRequest) -> RuleCheck:
    """The rule of the test's module (its `rule` marker), with the checks that judge it."""
    marker = request.node.get_closest_marker("rule")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} has no rule marker")
    return RuleCheck(marker.args[0], state_of(request.config).observations)


@pytest.fixture(autouse=True)
def one_test_scope(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fresh request history per test; every chat the test opened ends, pass or fail."""
    if "target" not in request.fixturenames:
        yield
        return
    harness: Harness = request.getfixturevalue("target")
    state = state_of(request.config)
    client = harness.api.client
    if state.deadline is not None and time.monotonic() >= state.deadline:
        state.stopped_because = "not run: the run's deadline (--max-time or max_time_s) was reached"
        pytest.exit(state.stopped_because, returncode=ExitCode.BROKEN)
    if client.outage:
        # A dead target ends the run now, instead of every test waiting out its own deadline.
        state.stopped_because = f"not run: {client.outage}"
        pytest.exit(state.stopped_because, returncode=ExitCode.BROKEN)
    client.server_errors.clear()
    request.node.stash[INTERFERENCE_MARK] = len(harness.interference)
    client.test_deadline = time.monotonic() + harness.profile.test_timeout_s
    if state.traffic is not None:
        marker = request.node.get_closest_marker("rule")
        state.traffic.testing(request.node.nodeid, marker.args[0] if marker else None)
    harness.restore_availability()
    client.forget_history()
    try:
        yield
    finally:
        client.test_deadline = None
        harness.clean_up()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the target as found: chats ended, agents logged out, the embedded one stopped."""
    state = state_of(session.config)
    if state.harness is not None:
        if state.traffic is not None:
            state.traffic.testing(CLEAN_UP, None)
        # Each on its own: a clean-up that fails must not keep the agents logged in.
        harness = state.harness
        for step in (harness.clean_up, harness.end_kept, harness.log_out, harness.api.client.close):
            with contextlib.suppress(Exception):
                step()
    if state.traffic is not None:
        state.traffic.finish()
        if state.traffic.error:
            state.write_error = f"the traffic could not all be written ({state.traffic.error})"
    if state.ledger is not None:
        state.ledger.close()
    if state.embedded is not None:
        state.embedded.stop()
