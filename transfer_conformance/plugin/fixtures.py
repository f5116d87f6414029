"""The pytest side of the suite: suites/conftest.py loads this module.

It decides the target in one place (`--target`, `--target-url`) and offers the fixtures: the
target (logged in and on line), the rule of a module, and one scope per test. The hooks live
by their jobs, in run_settings (options, budgets), allure_steps (labels, steps) and run_verdicts
(verdicts, the summary); they are re-exported here for the conftest.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from transfer_conformance.http.client import TargetUnreachable
from transfer_conformance.http.har import TrafficRecorder
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.plugin.allure_steps import (
    pytest_collection_modifyitems,
    pytest_runtest_call,
)
from transfer_conformance.plugin.options import (
    RUN,
    pytest_addoption,
    pytest_configure,
)
from transfer_conformance.plugin.results import (
    pytest_runtest_makereport,
    pytest_sessionfinish,
)
from transfer_conformance.run.summary import ExitCode
from transfer_conformance.target.api import ChatApi, SetupError, client_for, start_embedded
from transfer_conformance.target.checks import RuleCheck
from transfer_conformance.target.harness import Harness

__all__ = [
    "one_test_scope",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "rule",
    "target",
]


# ---------------------------------------------------------------------- the target
def _start_harness(config: pytest.Config) -> Harness:
    state = config.stash[RUN]
    profile = state.profile
    assert profile is not None
    if profile.embedded and not profile.base_url:
        state.embedded = start_embedded(profile, config.getoption("--fault"))
    client = client_for(profile)
    client.run_deadline = state.deadline
    summary_path = config.getoption("--run-summary")
    if summary_path:
        state.traffic = TrafficRecorder(Path(summary_path).parent / "traffic.har")
        client.listeners.append(state.traffic.listen)
    harness = Harness(ChatApi(profile, client), profile.ids())
    # Known to the run before anyone logs in: a set-up that fails or is interrupted half-way
    # still logs out whoever it logged in.
    state.harness = harness
    harness.bring_agents_online()
    return harness


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Harness:
    """The target, logged in and on line; a failure here ends the run as broken (exit 3)."""
    state = request.config.stash[RUN]
    if state.harness is None:
        if state.setup_error:
            pytest.exit(state.setup_error, returncode=ExitCode.BROKEN)
        profile = state.profile
        assert profile is not None
        where = f"target {profile.name} at {profile.base_url or '(embedded)'}"
        try:
            _start_harness(request.config)
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
    return RuleCheck(marker.args[0], request.config.stash[RUN].observations)


@pytest.fixture(autouse=True)
def one_test_scope(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fresh request history per test; every chat the test opened ends, pass or fail."""
    if "target" not in request.fixturenames:
        yield
        return
    harness: Harness = request.getfixturevalue("target")
    state = request.config.stash[RUN]
    client = harness.api.client
    if state.deadline is not None and time.monotonic() >= state.deadline:
        state.stopped_because = "not run: the run's deadline (--max-time or max_time_s) was reached"
        pytest.exit(state.stopped_because, returncode=ExitCode.BROKEN)
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
