"""The run's own plugin and the list of plugins a run loads: `plugins_for` is what
`transfer-conformance run` hands to `pytest.main`, so the suites need no conftest."""

from __future__ import annotations

import contextlib
import time

import pytest
from hypothesis import Phase, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import InvalidArgument

from strategies import TextDomain, use_domain
from transfer_conformance.http.client import STOP_REQUESTED
from transfer_conformance.paths import hypothesis_cache
from transfer_conformance.plugin import allure_steps, fixtures, results
from transfer_conformance.plugin.allure_steps import rule_of
from transfer_conformance.plugin.options import RunOptions
from transfer_conformance.plugin.state import RUN, RunState
from transfer_conformance.run.lanes import LaneTaker, durations, heaviest_first, lane_queues, write_collected
from transfer_conformance.target_api.api import spawn_embedded
from transfer_conformance.target_api.profile import TargetProfile


class RunSession:
    """Puts the run's typed state into the config before any other plugin reads it."""

    def __init__(self, options: RunOptions, profile: TargetProfile, seed: str) -> None:
        self.options = options
        self.profile = profile
        self.seed = seed

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "rule(id): the rule of specs/rules.yaml a test checks")
        config.addinivalue_line("markers", "must: tests of MUST rules")
        config.addinivalue_line("markers", "should: tests of SHOULD rules and decisions")
        config.addinivalue_line("markers", "long: takes far longer than most tests (lanes start it first)")
        config.addinivalue_line(
            "markers", "heavy: grows a process by tens of MB (lanes run it in their first two only)"
        )
        options, profile = self.options, self.profile
        state = RunState(options, profile, seed=self.seed)
        state.deadline = time.monotonic() + (options.max_time or profile.max_time_s)
        if options.discover:
            state.observations = []
        config.stash[RUN] = state
        # Hypothesis' own files (caches only: no example database) go to the user's cache, not
        # into whatever folder the command runs in.
        set_hypothesis_home_dir(hypothesis_cache(options.output))
        if profile.embedded and not profile.base_url:
            # Started now, it comes up while pytest collects the suites.
            state.embedded = spawn_embedded(profile, options.faults)
        options.load_budget()
        # MUST generators widen only to what this profile explicitly declares the target accepts.
        use_domain(TextDomain.from_decisions(profile.decisions))

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """A rule that only reports (a SHOULD rule or a decision, without --strict) is not shrunk:
        nobody asked for its minimal example, and shrinking against a slow target took most of a
        run. --strict shrinks everything, as the gate then depends on it."""
        options = self.options
        if options.strict or options.no_shrink:
            return
        reported = settings(
            settings.default, phases=[p for p in Phase if p not in (Phase.shrink, Phase.explain)]
        )
        for item in items:
            rule = rule_of(item)
            test = getattr(item, "obj", None)
            if rule is None or rule.gating or not getattr(test, "is_hypothesis_test", False):
                continue
            # the same function serves every parametrized case: decorate it once
            with contextlib.suppress(InvalidArgument):
                reported(test)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        """No test starts once the run is asked to stop, even when the signal's own interrupt
        was lost (http/client.py STOP_REQUESTED)."""
        if STOP_REQUESTED.is_set():
            raise KeyboardInterrupt("the run was asked to stop")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """In a lane: the tests this lane takes, one at a time, each as the lane becomes free.
        Only those are this lane's to judge; the run marks the tests no lane took."""
        options = self.options
        if options.lanes <= 1 or options.lane_claims is None or session.config.option.collectonly:
            return None
        if session.testsfailed:
            raise session.Interrupted(f"{session.testsfailed} error(s) during collection")
        state = session.config.stash[RUN]
        items = session.items
        every = dict(state.collected)
        write_collected(options.output, {nodeid: rule.id if rule else None for nodeid, rule in every.items()})
        taker = lane_taker(items, options)
        state.collected = {}

        def take() -> pytest.Item | None:
            index = taker.next()
            if index is None:
                return None
            item = items[index]
            state.collected[item.nodeid] = every[item.nodeid]
            return item

        while not (session.shouldfail or session.shouldstop):
            item = take()
            if item is None:
                break
            # pytest tears fixtures down by the next test, which a lane knows only once it is
            # free: any other test stands in for it (they all share the session's fixtures, the
            # only ones above a test's own), and the session's end tears the rest down.
            stand_in = next((other for other in items[:2] if other is not item), None)
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=stand_in)
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """The run says why it stopped in words of its own ("stopped early: ..."); pytest's
        banner for a stopped session would name an exception class instead. (A private field
        of pytest's terminal reporter, stable in the pinned pytest; tests/test_hostile_targets.py checks.)"""
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and hasattr(reporter, "_keyboardinterrupt_memo"):
            reporter._keyboardinterrupt_memo = None
        # The embedded reference started at configure never outlives the run, even one that
        # ended before its session did (a collection error).
        state = config.stash.get(RUN, None)
        if state is not None and state.embedded is not None:
            state.embedded.stop()


def plugins_for(options: RunOptions, profile: TargetProfile, seed: str) -> list[object]:
    """The plugins of one run, in the order their hooks should see the run."""
    return [RunSession(options, profile, seed), fixtures, allure_steps, results]


def lane_taker(items: list[pytest.Item], options: RunOptions) -> LaneTaker:
    """The order in which this lane takes the run's tests (run/lanes.py): the long ones, then
    the generated ones, or an earlier run's durations; the heavy ones in the first lanes."""
    long = frozenset(item.nodeid for item in items if item.get_closest_marker("long"))
    heavy = frozenset(index for index, item in enumerate(items) if item.get_closest_marker("heavy"))
    generated = frozenset(
        item.nodeid for item in items if getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
    )
    order = heaviest_first([item.nodeid for item in items], durations(options.lane_weights), long, generated)
    assert options.lane_claims is not None
    queues = lane_queues(order, heavy, options.lane, options.lanes)
    return LaneTaker(queues, options.lane_claims, options.lane_heavy_claims)
