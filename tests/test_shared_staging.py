"""A shared staging: another client on the same agents is named, never judged. Two whole runs at
once against one target with the same agents each end conformant (0) or broken naming the other
client (3), never with a violation (1); so does a run of the suite's flows whose receiving agent
someone sets Away half-way. (Five tries of the two runs: `benchmarks/two_runs.py`.)"""

import threading

import pytest

from reference_target.embedded import EmbeddedReference
from tests import hostile_targets as hostile
from tests.conftest import BEHAVIOUR_RULES, spawn_cli
from transfer_conformance.http.client import RecordingClient
from transfer_conformance.run.summary import RunSummary
from transfer_conformance.target_api.api import ChatApi
from transfer_conformance.target_api.profile import load_profile

pytestmark = pytest.mark.run

RUN = ("run", "--no-report", "--examples", "2", "--no-shrink")


def start_run(url, output, *rules):
    return spawn_cli(*RUN, *rules, "--target-url", url, "--output", str(output))


def judged(process, output):
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode in (0, 3), stdout[-3000:] + stderr[-2000:]
    if process.returncode == 3:
        assert "another client used the same agents" in stdout, stdout[-3000:]
    summary = RunSummary.load(output / "last-run.json")
    assert summary is not None and not summary.failed()
    return summary


def test_two_runs_at_once_with_the_same_agents_never_report_a_violation(tmp_path):
    with EmbeddedReference() as reference:
        runs = [(start_run(reference.url, tmp_path / name), tmp_path / name) for name in ("a", "b")]
        summaries = [judged(process, output) for process, output in runs]
    # each ran the whole suite and saw the other (both take chats for the same agent)
    assert all(summary.results for summary in summaries)
    assert any(summary.interference for summary in summaries)


def test_an_agent_set_away_by_someone_else_mid_run_is_named_not_judged(tmp_path):
    reached = threading.Event()
    with (
        EmbeddedReference() as reference,
        hostile.HostileTarget(reference.url, hostile.signal_on_transfer(reached, 12)) as proxy,
    ):
        # The suite's own flows (the contract's cases run beside another client in the test above)
        process = start_run(proxy.url, tmp_path, *BEHAVIOUR_RULES)
        assert reached.wait(120), "the run never reached its transfers"
        # a person logs in as the receiving agent elsewhere and goes Away
        profile = load_profile("reference")
        profile.base_url = profile.login_url = profile.visitor_url = reference.url
        person = ChatApi(profile, RecordingClient())
        agent = person.auth.log_in(profile.agents["receiving"])
        assert person.set_availability(agent, "Away").status == 200
        summary = judged(process, tmp_path)
        person.auth.logout(agent)
    assert summary.results
