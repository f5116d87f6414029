"""Where the harness finds its suites and report tool (shipped), and the user's profiles,
known issues and reports (the working directory)."""

from pathlib import Path

from transfer_contract.paths import packaged

HARNESS = Path(__file__).resolve().parent
SUITES = packaged("suites", "suites", HARNESS)
REPORT_TOOL = packaged("report_tool", "report-tool", HARNESS)
WORKDIR = Path.cwd()
LOCAL_TARGETS = WORKDIR / "targets"
REPORTS = WORKDIR / "reports"
KNOWN_ISSUES = WORKDIR / "known-issues.toml"
