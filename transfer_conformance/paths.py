"""Where the harness finds its suites and report tool (shipped), and the user's profiles,
known issues and reports (the working directory)."""

import os
from pathlib import Path

from transfer_contract.paths import packaged

HARNESS = Path(__file__).resolve().parent
SUITES = packaged("suites", "suites", HARNESS)
REPORT_TOOL = packaged("report_tool", "report-tool", HARNESS)
WORKDIR = Path.cwd()
LOCAL_TARGETS = WORKDIR / "targets"
REPORTS = WORKDIR / "reports"
KNOWN_ISSUES = WORKDIR / "known-issues.toml"


def hypothesis_cache(output: Path) -> Path:
    """Where Hypothesis keeps what it works out once per machine (its Unicode tables, the
    constants it reads from source files): the user's cache folder, so that a run in a fresh
    output folder does not build them again (the UTF-8 table alone costs a run about 160 MB at
    its peak); the output folder when there is no home to cache in."""
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("HOME") and Path.home() / ".cache")
    return Path(base) / "transfer-conformance" / "hypothesis" if base else output / ".hypothesis"
