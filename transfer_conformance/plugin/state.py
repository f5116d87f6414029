"""The run's state, shared by the plugins through the pytest config's stash: the options and the
profile they were built with, the target's harness, the results so far and the deadlines."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from reference_target.embedded import EmbeddedReference
from transfer_conformance.http.client import Exchange
from transfer_conformance.http.har import TrafficRecorder
from transfer_conformance.plugin.options import RunOptions
from transfer_conformance.run.ledger import Ledger
from transfer_conformance.run.summary import Result
from transfer_conformance.target_api.harness import Harness
from transfer_conformance.target_api.profile import TargetProfile
from transfer_contract.catalogue import Rule


@dataclass
class RunState:
    options: RunOptions
    profile: TargetProfile
    seed: str = ""
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
    ledger: Ledger | None = None
    # what the run could not write (a full disk): it ends broken, naming it
    write_error: str = ""
    # discover mode: what each decision check saw, instead of judging it
    observations: list[dict[str, Any]] | None = None

    @property
    def xml_form(self) -> str:
        """The XML transfer form the run used, and where it came from (declared or found)."""
        harness = self.harness
        return f"{harness.xml_form} ({harness.xml_form_source})" if harness else ""


RUN = pytest.StashKey[RunState]()
FAILING = pytest.StashKey[list[Exchange]]()
# how many signs of another client the run had seen when a test started
INTERFERENCE_MARK = pytest.StashKey[int]()


def state_of(config: pytest.Config) -> RunState:
    return config.stash[RUN]


def contract_budget(config: pytest.Config) -> int:
    """Schemathesis cases per operation and mode for this run."""
    return state_of(config).options.contract_examples
