"""The GitHub Actions template: one job per target in a matrix, and a final job that diffs them;
every command it calls exists with the options it passes."""

import re

import yaml

from tests.conftest import run_main
from transfer_contract.paths import CHECKOUT

WORKFLOW = CHECKOUT / ".github" / "workflows" / "conformance.yml"


def test_matrix_of_targets_then_one_compare_job():
    jobs = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    matrix = jobs["conformance"]["strategy"]["matrix"]
    assert len(matrix["target"]) >= 2 and jobs["conformance"]["strategy"]["fail-fast"] is False
    assert jobs["compare"]["needs"] == "conformance" and jobs["compare"]["if"] == "always()"
    script = "\n".join(step.get("run", "") for step in jobs["compare"]["steps"])
    assert "transfer-conformance diff" in script and "GITHUB_STEP_SUMMARY" in script


def test_every_option_the_template_passes_exists():
    text = WORKFLOW.read_text(encoding="utf-8")
    for command in ("run", "report", "file-regression", "diff"):
        help_text = run_main(command, "--help").stdout
        used = set(re.findall(rf"transfer-conformance {command}\b[^\n]*", text))
        for line in used:
            for option in re.findall(r"(--[a-z-]+)", line):
                assert option in help_text, f"{command} {option}"
    main_job_options = re.findall(r"bin/main-job[^\n]*\n?[^\n]*", text)
    run_help = run_main("run", "--help").stdout
    for line in main_job_options:
        for option in re.findall(r"(--[a-z-]+)", line):
            assert option in run_help, option


def test_release_pipelines_can_call_it_and_read_the_verdict():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert "workflow_call" in triggers
    assert triggers["workflow_call"]["outputs"]["verdict"]["value"] == "${{ jobs.compare.outputs.verdict }}"
    compare = workflow["jobs"]["compare"]
    assert compare["outputs"]["verdict"] == "${{ steps.verdict.outputs.verdict }}"
    step = next(s for s in compare["steps"] if s.get("id") == "verdict")
    assert step["if"] == "always()" and "GITHUB_OUTPUT" in step["run"]


def test_runs_never_overlap_on_one_target_and_history_survives_red_nights():
    job = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["conformance"]
    assert "${{ matrix.target }}" in job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] is False
    uses = [step.get("uses", "") for step in job["steps"]]
    assert "actions/cache/restore@v4" in uses and "actions/cache/save@v4" in uses
    save = next(s for s in job["steps"] if s.get("uses") == "actions/cache/save@v4")
    assert save["if"] == "always()"


def test_the_compare_job_fails_on_any_diff_error_and_keeps_matrix_order():
    compare = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["compare"]
    script = "\n".join(step.get("run", "") for step in compare["steps"])
    assert "[ $code -ne 0 ]" in script and "-eq 1" not in script
    assert "sort -V" in script
    job = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["conformance"]
    orders = [entry["order"] for entry in job["strategy"]["matrix"]["include"]]
    assert orders == sorted(orders)


def test_a_cancelled_job_cleans_up_after_its_run():
    jobs = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    steps = {step.get("name"): step for step in jobs["conformance"]["steps"]}
    cleanup = steps["Clean up after a cancelled run"]
    assert "cancelled()" in cleanup["if"]
    assert "transfer-conformance cleanup --target ${{ matrix.target }}" in cleanup["run"]
