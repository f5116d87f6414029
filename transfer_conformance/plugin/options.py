"""The run's settings: the suite's command-line options, Hypothesis' example budgets per run
profile (dev, ci derandomized, nightly), and the run state every other part of the plugin reads."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from reference_target.embedded import EmbeddedReference
from strategies import TextDomain, use_domain
from transfer_conformance.http.client import Exchange
from transfer_conformance.http.har import TrafficRecorder
from transfer_conformance.run.summary import RUN_PROFILES, Result
from transfer_conformance.target.harness import Harness
from transfer_conformance.target.profile import ConfigError, TargetProfile, load_profile
from transfer_contract.catalogue import Rule

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": False,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
}
# Example budgets per run profile. ci is derandomized: the gating run is repeatable.
settings.register_profile("dev", max_examples=5, **_COMMON)
settings.register_profile("ci", max_examples=8, derandomize=True, **_COMMON)
settings.register_profile("nightly", max_examples=60, **_COMMON)
# Schemathesis cases per operation and mode, by run profile.
CONTRACT_EXAMPLES = {"dev": 6, "ci": 8, "nightly": 50}


def contract_budget(config: pytest.Config) -> int:
    return config.getoption("--max-examples") or CONTRACT_EXAMPLES[config.getoption("--suite-profile")]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("transfer-conformance")
    group.addoption("--target", default="reference", help="profile name or .toml path")
    group.addoption("--target-url", default=None, help="override every base URL of the profile")
    group.addoption("--suite-profile", default="ci", choices=RUN_PROFILES)
    group.addoption("--strict-rules", action="store_true", help="SHOULD rules fail the run too")
    group.addoption("--rule", action="append", default=[], help="run only this rule (repeatable)")
    group.addoption("--run-summary", default=None, help="write the JSON run summary here")
    group.addoption("--max-examples", type=int, default=None, help="override the example budget")
    group.addoption("--no-shrink", action="store_true", help="report failures unshrunk (faster)")
    group.addoption(
        "--fault", action="append", default=[], help="embedded reference: start it with this fault"
    )
    group.addoption(
        "--max-time", type=float, default=None, help="seconds the run may take (default: the profile's)"
    )
    group.addoption("--discover", default=None, help="record what decision checks see to this JSON file")
    group.addoption(
        "--ignore-decisions",
        action="store_true",
        help="forget the profile's [decisions]: rules.yaml's defaults, MUST generators unwidened",
    )


@dataclass
class RunState:
    profile: TargetProfile | None = None
    run_profile: str = "ci"
    strict: bool = False
    embedded: EmbeddedReference | None = None
    harness: Harness | None = None
    setup_error: str = ""
    results: list[Result] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    # The run's deadline (monotonic), and the tests collected: those without a verdict at the
    # end (deadline, interrupt) are recorded as broken.
    deadline: float | None = None
    collected: dict[str, Rule | None] = field(default_factory=dict)
    stopped_because: str = ""
    traffic: TrafficRecorder | None = None
    # discover mode: what each decision check saw, instead of judging it
    observations: list[dict[str, Any]] | None = None


RUN = pytest.StashKey[RunState]()
FAILING = pytest.StashKey[list[Exchange]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(id): the rule of specs/rules.yaml a test checks")
    state = RunState(
        run_profile=config.getoption("--suite-profile"),
        strict=config.getoption("--strict-rules"),
    )
    config.stash[RUN] = state
    settings.load_profile(state.run_profile)
    budget = config.getoption("--max-examples")
    overrides: dict[str, Any] = {"max_examples": budget} if budget else {}
    if config.getoption("--no-shrink"):
        overrides["phases"] = [p for p in Phase if p not in (Phase.shrink, Phase.explain)]
    if overrides:
        settings.register_profile("adjusted", parent=settings.get_profile(state.run_profile), **overrides)
        settings.load_profile("adjusted")
    try:
        profile = load_profile(config.getoption("--target"))
        if config.getoption("--target-url"):
            profile.with_url(config.getoption("--target-url"))
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    if config.getoption("--discover"):
        state.observations = []
    max_time = config.getoption("--max-time") or profile.max_time_s
    state.deadline = time.monotonic() + max_time
    if config.getoption("--ignore-decisions"):
        profile.decisions = {}
    # MUST generators widen only to what this profile explicitly declares the target accepts.
    use_domain(TextDomain.from_decisions(profile.decisions))
    state.profile = profile
