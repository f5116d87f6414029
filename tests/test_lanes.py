"""`run --lanes N`: tests side by side, each lane on an agent set of the profile's own. Every
test runs once, in one lane, with the verdicts of one lane; the lanes' folders make one run
folder (summary, JUnit, HAR, Allure results); a failure names its lane and replays on its agents."""

import json
import os

import pytest
import requests

from reference_target.embedded import EmbeddedReference
from tests.conftest import BEHAVIOUR_RULES, run_cli, run_main, summary_of
from transfer_conformance.run.lanes import (
    CLAIMS,
    LaneTaker,
    claim,
    claims_pipe,
    heaviest_first,
    lane_queues,
    merge_har,
    merge_junit,
    merge_summaries,
)
from transfer_conformance.run.summary import Outcome, Result, RunSummary
from transfer_conformance.target_api.profile import load_profile
from transfer_contract.paths import TARGETS

TESTS = [f"suites/test_{name}.py::test" for name in "abcdefg"]


def test_lanes_take_the_longest_tests_first_and_never_the_same_one():
    weights = {TESTS[0]: 1.0, TESTS[1]: 10.0, TESTS[2]: 3.0, TESTS[3]: 4.0}
    # the unknown tests count as the average (4.5 s), after the 10 s one, in their order
    assert heaviest_first(TESTS, weights) == [1, 4, 5, 6, 3, 2, 0]
    assert heaviest_first(TESTS, {}) == list(range(len(TESTS)))
    # no earlier run: the tests marked long first, then the others, each in their order
    assert heaviest_first(TESTS, {}, frozenset({TESTS[5], TESTS[2]})) == [2, 5, 0, 1, 3, 4, 6]
    assert heaviest_first(TESTS, weights, frozenset({TESTS[5]})) == [1, 4, 5, 6, 3, 2, 0]
    # ... then the generated (Hypothesis) tests, then the others; an earlier run's weights win
    generated = frozenset({TESTS[6], TESTS[1]})
    assert heaviest_first(TESTS, {}, frozenset({TESTS[5]}), generated) == [5, 1, 6, 0, 2, 3, 4]
    assert heaviest_first(TESTS, weights, frozenset({TESTS[5]}), generated) == [1, 4, 5, 6, 3, 2, 0]
    read = claims_pipe()
    try:
        taken = [claim(read) for _ in range(CLAIMS)]
        assert taken == list(range(CLAIMS)) and claim(read) is None
    finally:
        os.close(read)


def test_merged_summary_names_each_results_lane_and_what_broke_a_lane():
    first = RunSummary(results=[Result("b", Outcome.PASSED)], requests_sent=5, started=10.0, finished=20.0)
    second = RunSummary(
        results=[Result("a", Outcome.FAILED)],
        requests_sent=7,
        started=11.0,
        finished=25.0,
        interference=["chat X"],
        stopped="not run: deadline",
    )
    merged = merge_summaries([(0, first), (1, second)], {"a": None, "b": None, "c": "text-optional"})
    assert [(r.nodeid, r.lane, r.outcome) for r in merged.results] == [
        ("a", 1, Outcome.FAILED),
        ("b", 0, Outcome.PASSED),
        ("c", 0, Outcome.BROKEN),
    ], "a test no lane took is broken, not run"
    assert merged.results[2].message == "not run: lane 2: not run: deadline"
    assert merged.results[2].rule == "text-optional" and merged.results[2].level == "MUST"
    assert merged.requests_sent == 12 and (merged.started, merged.finished) == (10.0, 25.0)
    assert merged.interference == ["lane 2: chat X"]
    assert merged.stopped == "lane 2: not run: deadline"
    assert merge_summaries([(0, first), (1, None)]).setup_error == "lane 2: ended without writing its summary"
    # what several lanes say alike is said once
    down = [RunSummary(setup_error="target unreachable") for _ in range(3)]
    assert merge_summaries(list(enumerate(down))).setup_error == "lanes 1, 2 and 3: target unreachable"


def test_merged_junit_and_har_hold_every_lanes_entries(tmp_path):
    for number, (tests, failures) in enumerate([(2, 1), (3, 0)]):
        cases = "".join(f'<testcase classname="c" name="t{number}{i}" time="1"/>' for i in range(tests))
        (tmp_path / f"{number}.xml").write_text(
            f'<testsuites><testsuite name="pytest" tests="{tests}" failures="{failures}" errors="0" '
            f'skipped="0" time="{tests}.5">{cases}</testsuite></testsuites>',
            encoding="utf-8",
        )
        entries = [{"startedDateTime": f"2026-12-03T10:00:0{number + 2 * i}Z"} for i in range(2)]
        (tmp_path / f"{number}.har").write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    merge_junit([tmp_path / "0.xml", tmp_path / "1.xml", tmp_path / "missing.xml"], tmp_path / "junit.xml")
    text = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert 'tests="5"' in text and 'failures="1"' in text and 'time="3.500"' in text
    assert text.count("<testcase") == 5
    merge_har([tmp_path / "0.har", tmp_path / "1.har"], tmp_path / "traffic.har")
    started = [
        e["startedDateTime"] for e in json.loads((tmp_path / "traffic.har").read_text())["log"]["entries"]
    ]
    assert started == sorted(started) and len(started) == 4


def test_heavy_tests_go_to_the_first_two_lanes_only_and_first():
    order, heavy = [4, 0, 5, 1, 2, 3], frozenset({5, 2})
    # up to two lanes: one queue of every test, in order
    assert lane_queues(order, heavy, 1, 2) == [(False, order)]
    # more: the first two lanes empty the heavy tests' queue, then share the rest with the others
    assert lane_queues(order, heavy, 0, 6) == [(True, [5, 2]), (False, [4, 0, 1, 3])]
    assert lane_queues(order, heavy, 1, 3) == [(True, [5, 2]), (False, [4, 0, 1, 3])]
    assert lane_queues(order, heavy, 2, 3) == [(False, [4, 0, 1, 3])]
    assert lane_queues(order, frozenset(), 5, 6) == [(False, order)]
    # a lane takes its queues' tests in turn, each queue's numbers from its own pipe
    pipes = [claims_pipe(), claims_pipe()]
    try:
        taker = LaneTaker(lane_queues(order, heavy, 0, 3), *pipes)
        assert [taker.next() for _ in range(7)] == [5, 2, 4, 0, 1, 3, None]
    finally:
        for pipe in pipes:
            os.close(pipe)


@pytest.mark.run
def test_two_lanes_judge_every_test_once_as_one_lane_does(tmp_path):
    budget = ("--examples", "2", "--no-shrink", "--no-report", "--strict", *BEHAVIOUR_RULES)
    one = run_cli("run", *budget, "--output", str(tmp_path / "one"))
    two = run_cli("run", *budget, "--lanes", "2", "--output", str(tmp_path / "two"))
    assert one.returncode == two.returncode == 0, two.stdout[-3000:] + two.stderr[-2000:]
    assert "lane 1 | " in two.stdout and "lane 2 | " in two.stdout
    alone, side_by_side = summary_of(tmp_path / "one"), summary_of(tmp_path / "two")
    outcomes = {r["nodeid"]: r["outcome"] for r in side_by_side["results"]}
    assert outcomes == {r["nodeid"]: r["outcome"] for r in alone["results"]}
    assert len(outcomes) == len(side_by_side["results"]), "every test once"
    assert {r["lane"] for r in side_by_side["results"]} == {0, 1}
    # one run folder: JUnit and HAR hold what the lanes did, the Allure results are together
    har = json.loads((tmp_path / "two" / "traffic.har").read_text(encoding="utf-8"))["log"]["entries"]
    assert len(har) == side_by_side["requests_sent"] > 0
    junit = (tmp_path / "two" / "junit.xml").read_text(encoding="utf-8")
    assert junit.count("<testcase") == len(outcomes)
    assert list((tmp_path / "two" / "allure-results").glob("*-result.json"))
    assert not side_by_side["interference"], "the lanes never see each other's chats"
    # every agent set's password is masked, in the run's files and in the lanes' own
    profile = load_profile("reference")
    passwords = {
        login.password
        for agents in [profile.agents, *(lane.agents for lane in profile.lanes)]
        for login in agents.values()
    }
    for path in (tmp_path / "two").rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [secret for secret in passwords if secret in text], path


@pytest.mark.run
def test_three_lanes_keep_the_contract_in_the_first_two(tmp_path):
    """The contract's cases (marked heavy: Schemathesis' caches grow a process by 50 MB and more)
    run in lanes 1 and 2 only; lane 3 takes the rest, and every test runs once."""
    done = run_cli(
        "run",
        *("--rule", "openapi-contract", "--rule", "bearer-required", "--rule", "text-optional"),
        *("--examples", "1", "--no-shrink", "--no-report", "--lanes", "3"),
        "--output",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    results = summary_of(tmp_path)["results"]
    lanes = {r["nodeid"]: r["lane"] for r in results}
    assert len(lanes) == len(results), "every test once"
    contract = {lane for nodeid, lane in lanes.items() if "test_openapi_contract" in nodeid}
    assert contract and contract <= {0, 1}, contract
    assert 2 in set(lanes.values()), "the third lane took the other tests"


@pytest.mark.run
def test_a_fault_is_caught_in_its_lane_and_replays_on_that_lanes_agents(tmp_path):
    # two rules, each with its fault: each lane takes one test, and each test fails
    done = run_cli(
        "run",
        "--rule",
        "agent-or-skill-required",
        "--rule",
        "agent-takes-precedence",
        "--lanes",
        "2",
        "--fault",
        "skill_wins_over_agent",
        "--fault",
        "neither_accepted",
        "--examples",
        "3",
        "--no-report",
        "--output",
        str(tmp_path),
    )
    assert done.returncode == 1, done.stdout[-3000:]
    failed = [r for r in summary_of(tmp_path)["results"] if r["outcome"] == "failed"]
    assert len(failed) == 2 and {r["lane"] for r in failed} <= {0, 1}, failed
    # Each lane takes the next test when it is free: almost always one each, but a lane that
    # starts late may find both taken. The replay is of the second lane's failure when it has one.
    second = max(failed, key=lambda result: result["lane"])
    with EmbeddedReference(("skill_wins_over_agent", "neither_accepted")) as served:
        replayed = run_cli("replay", second["nodeid"], "--output", str(tmp_path), "--target-url", served.url)
        state = requests.get(f"{served.url}/_reference/state", timeout=5).json()
    assert replayed.returncode == 1, replayed.stdout[-2000:] + replayed.stderr[-2000:]
    assert "the failure REPRODUCES" in replayed.stdout
    assert state["open_chats"] == 0 and state["bearers"] == 0, state


def test_more_lanes_than_agent_sets_is_a_usage_error(tmp_path):
    done = run_main("run", "--lanes", "7", "--no-report", "--output", str(tmp_path))
    assert done.returncode == 2
    assert "--lanes 7: reference declares 6 agent set(s)" in done.stderr
    assert "Traceback" not in done.stderr


def test_more_lanes_than_the_memory_budget_allows_is_a_usage_error(tmp_path):
    extra = (
        '\n[[lanes]]\nvisitor_skill = "Sales9"\n'
        '[lanes.agents.transferring]\nusername = "x9"\npassword = "p"\nid = 9001\n'
        '[lanes.agents.receiving]\nusername = "y9"\npassword = "p"\nid = 9006\n'
        "[lanes.skills]\navailable = 97\n"
    )
    reference = (TARGETS / "reference.toml").read_text(encoding="utf-8")
    head, tail = reference.split("# What the reference accepts", 1)
    (tmp_path / "seven.toml").write_text(
        head + extra + "\n# What the reference accepts" + tail, encoding="utf-8"
    )
    done = run_main(
        "run", "--target", str(tmp_path / "seven.toml"), "--lanes", "7", "--output", str(tmp_path / "o")
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "--lanes 7: at most 6" in done.stderr
