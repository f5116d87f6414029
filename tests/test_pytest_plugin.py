"""The suite as a plain pytest plugin: `pytest suites --target NAME` runs the suites with the
command's option names, `-m must` / `-m should` select by level, and a session that does not
ask for it (no --target) is untouched."""

import subprocess
import sys

import pytest

from tests.conftest import summary_of
from transfer_contract.paths import CHECKOUT


def pytest_in(folder, *args):
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:schemathesis", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.run
def test_plain_pytest_runs_the_must_rules_with_the_command_s_options(tmp_path):
    done = pytest_in(
        tmp_path,
        str(CHECKOUT / "suites"),
        "--target",
        "reference",
        "-m",
        "must",
        "--examples",
        "2",
        "--no-shrink",
        "--output",
        str(tmp_path / "out"),
        "-q",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    results = summary_of(tmp_path / "out")["results"]
    assert results and {r["level"] for r in results} == {"MUST"}
    assert all(r["outcome"] == "passed" for r in results)


def test_a_session_without_target_is_untouched(tmp_path):
    (tmp_path / "test_other.py").write_text("def test_other():\n    assert True\n", encoding="utf-8")
    done = pytest_in(tmp_path, "-q")
    assert done.returncode == 0, done.stdout[-2000:]
    assert sorted(path.name for path in tmp_path.iterdir() if path.name != "__pycache__") == ["test_other.py"]
