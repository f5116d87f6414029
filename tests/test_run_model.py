"""The typed run model: outcomes, verdicts per rule, the exit code, and run folders of the
release before (last-run.json without the fields added since) still loading in every reader."""

import json

from tests.conftest import run_main
from transfer_conformance.errors import ExitCode
from transfer_conformance.run.known_issues import KnownIssue, KnownIssues
from transfer_conformance.run.summary import Outcome, RecordedExchange, Result, RunSummary
from transfer_conformance.run.verdicts import Verdict, exit_code, rule_verdicts

# A result as the release before wrote it: outcome a string, exchanges plain dicts, no
# evidence, no url_override, no stopped.
OLD_RESULT = {
    "nodeid": "suites/test_text_optional.py::test_text_is_optional",
    "outcome": "failed",
    "rule": "text-optional",
    "level": "MUST",
    "kind": "documented",
    "check": "suite",
    "message": "[text-optional] (MUST) ...\nExpected: 200\nActual: 500",
    "example": "",
    "duration_s": 0.5,
    "exchanges": [
        {
            "title": "transfer (json): skill=available",
            "method": "POST",
            "url": "http://127.0.0.1:1/api/account/1/agentSession/2/chat/H1-aK1/transfer?v=1&NC=true",
            "request_headers": {"Authorization": "Bearer $LP_BEARER"},
            "request_body": '{"transfer": {"skill": {"id": 2}}}',
            "status": 500,
            "response_headers": {},
            "response_body": "",
            "elapsed_ms": 3.0,
            "error": "",
            "curl": "curl -sS -i -X POST 'http://127.0.0.1:1/...'",
        }
    ],
    "finished": 1764500000.0,
}


def old_run(folder, outcome):
    folder.mkdir()
    result = {**OLD_RESULT, "outcome": outcome}
    summary = {
        "suite_version": "0.1.0",
        "target": {"name": "reference", "url": "http://127.0.0.1:1", "profile_file": "reference.toml"},
        "run_profile": "ci",
        "seed": "derandomized",
        "results": [result],
    }
    (folder / "last-run.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def test_a_summary_of_the_release_before_loads_typed(tmp_path):
    summary = RunSummary.of_run(old_run(tmp_path / "a", "failed"))
    (result,) = summary.results
    assert result.outcome is Outcome.FAILED
    assert isinstance(result.exchanges[0], RecordedExchange) and result.exchanges[0].status == 500
    assert result.evidence == [] and summary.stopped == "" and summary.target.url_override == ""


def test_diff_reads_run_folders_of_the_release_before(tmp_path):
    done = run_main("diff", str(old_run(tmp_path / "a", "passed")), str(old_run(tmp_path / "b", "failed")))
    assert done.returncode == ExitCode.VIOLATION, done.stdout + done.stderr
    assert "text-optional" in done.stdout and "WORSE" in done.stdout


def result(rule, outcome):
    return Result(f"suites/test_{rule}.py::t", outcome, rule=rule)


def test_verdicts_and_exit_code():
    summary = RunSummary(
        results=[
            result("text-optional", Outcome.PASSED),
            result("agent-takes-precedence", Outcome.FAILED),
            result("agent-takes-precedence", Outcome.BROKEN),
            result("decision-status-neither", Outcome.FAILED),
            result("bearer-required", Outcome.BROKEN),
        ]
    )
    verdicts = rule_verdicts(summary, strict=False, known=None)
    assert verdicts["text-optional"].verdict is Verdict.OK
    assert verdicts["agent-takes-precedence"].verdict is Verdict.VIOLATED
    assert verdicts["decision-status-neither"].verdict is Verdict.VIOLATED
    assert not verdicts["decision-status-neither"].fails_run, "a SHOULD rule counts only with --strict"
    assert verdicts["bearer-required"].verdict is Verdict.BROKEN
    assert exit_code(verdicts) is ExitCode.VIOLATION
    del verdicts["agent-takes-precedence"]
    assert exit_code(verdicts) is ExitCode.BROKEN
    assert exit_code(rule_verdicts(summary, strict=True, known=None)) is ExitCode.VIOLATION
    assert exit_code({}, setup_error="unreachable") is ExitCode.BROKEN


def test_known_issues_count_only_when_asked():
    summary = RunSummary(results=[result("text-optional", Outcome.FAILED)])
    summary.target.name = "staging"
    known = KnownIssues("", (KnownIssue("text-optional", "", "X-1", False, (), ""),))
    assert rule_verdicts(summary, strict=False, known=known)["text-optional"].verdict is Verdict.KNOWN
    assert exit_code(rule_verdicts(summary, strict=False, known=known)) is ExitCode.OK
    assert rule_verdicts(summary, strict=False, known=None)["text-optional"].verdict is Verdict.VIOLATED
