"""The GitHub Actions template: one job per target in a matrix, and a final job that diffs them;
every command it calls exists with the options it passes."""

import re

import yaml

from tests.conftest import run_cli
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
        help_text = run_cli(command, "--help").stdout
        used = set(re.findall(rf"transfer-conformance {command}\b[^\n]*", text))
        for line in used:
            for option in re.findall(r"(--[a-z-]+)", line):
                assert option in help_text, f"{command} {option}"
    main_job_options = re.findall(r"bin/main-job[^\n]*\n?[^\n]*", text)
    run_help = run_cli("run", "--help").stdout
    for line in main_job_options:
        for option in re.findall(r"(--[a-z-]+)", line):
            assert option in run_help, option
