"""The command line as users meet it: exit codes, clear errors, the fault list, serve."""

import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from reference_target.embedded import READY_PREFIX, EmbeddedReference
from reference_target.faults import FAULTS
from tests.conftest import FAILING_RUN, run_cli, run_main
from transfer_conformance.commands.run import guarded_console
from transfer_conformance.http.client import STOP_REQUESTED
from transfer_conformance.plugin.options import RunOptions
from transfer_conformance.plugin.session import RunSession
from transfer_conformance.target_api.harness import Harness
from transfer_conformance.target_api.profile import load_profile


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.run
def test_unreachable_target_exits_3_quickly(tmp_path):
    started = time.perf_counter()
    done = run_cli(
        "run", "--target-url", f"http://127.0.0.1:{free_port()}", "--no-report", "--output", str(tmp_path)
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert time.perf_counter() - started < 30
    assert "unreachable" in done.stdout and "127.0.0.1" in done.stdout


def test_unknown_rule_is_a_usage_error():
    done = run_main("run", "--rule", "no-such-rule", "--no-report")
    assert done.returncode == 2
    assert "unknown rule no-such-rule" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_target_is_a_usage_error():
    done = run_main("run", "--target", "nowhere", "--no-report")
    assert done.returncode == 2 and "no target profile 'nowhere'" in done.stderr


def test_profile_with_an_inline_password_is_refused(tmp_path):
    profile = tmp_path / "staging.toml"
    profile.write_text(
        'name = "staging"\nbase_url = "https://staging.example"\naccount_id = "1"\n'
        'visitor_app_key_env = "TC_TEST_APP_KEY"\nvisitor_skill = "Sales"\n'
        '[agents.transferring]\nusername = "a"\npassword = "inline-secret"\nid = 1\n'
        '[agents.receiving]\nusername = "b"\npassword_env = "TC_TEST_PW"\nid = 2\n'
        "[skills]\navailable = 1\nunavailable = 2\nunknown = 3\nunknown_agent = 4\n"
    )
    done = run_main("run", "--target", str(profile), "--no-report")
    assert done.returncode == 2
    assert "must come from an environment variable" in done.stderr
    assert "inline-secret" not in done.stderr + done.stdout


def test_fault_with_a_url_target_is_a_usage_error():
    done = run_main("run", "--target-url", "http://127.0.0.1:9", "--fault", "neither_accepted")
    assert done.returncode == 2 and "embedded reference" in done.stderr


def test_faults_prints_one_tab_separated_line_per_fault():
    done = run_main("faults")
    lines = done.stdout.splitlines()
    assert done.returncode == 0
    assert [line.split("\t")[0] for line in lines] == [fault.name for fault in FAULTS]
    assert all(len(line.split("\t")) == 3 for line in lines)


def test_serve_announces_its_url_and_answers_on_root():
    command = [sys.executable, "-m", "transfer_conformance.cli", "serve", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            line = server.stdout.readline()
            assert line.startswith(READY_PREFIX)
            url = line.removeprefix(READY_PREFIX).strip()
            assert requests.get(url + "/", timeout=5).status_code == 200
        finally:
            server.terminate()


def test_serve_with_an_unknown_fault_is_a_usage_error():
    done = run_main("serve", "--port", "0", "--fault", "no_such_fault")
    assert done.returncode == 2 and "unknown fault no_such_fault" in done.stderr


@pytest.mark.run
def test_known_issue_is_shown_as_known_and_does_not_fail_the_run(tmp_path):
    known = tmp_path / "known.toml"
    known.write_text(
        'tracker_url = "https://tracker.example.com/browse/%s"\n'
        '[[issue]]\nrule = "agent-takes-precedence"\nticket = "CHAT-42"\n'
    )
    args = [*FAILING_RUN, "--no-shrink", "--output", str(tmp_path / "out")]
    unknown = run_cli(*args, "--no-report")
    assert unknown.returncode == 1
    done = run_cli(*args, "--known-issues", str(known))
    assert done.returncode == 0, done.stdout[-2000:]
    assert "known issue CHAT-42" in done.stdout
    results = list((tmp_path / "out" / "allure-results").glob("*-result.json"))
    assert any('"known-issue"' in path.read_text() for path in results)
    # A report built again (report generate, diff --report) labels a known issue once.
    again = run_cli("report", "generate", "--known-issues", str(known), "--output", str(tmp_path / "out"))
    assert again.returncode == 0, again.stderr[-2000:]
    assert max(path.read_text().count('"known-issue"') for path in results) == 1
    nothing = run_cli("file-regression", "--known-issues", str(known), "--output", str(tmp_path / "out"))
    assert "no failure to file" in nothing.stdout


@pytest.mark.run
def test_report_serve_answers_on_loopback(tmp_path):
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text("<html>report</html>")
    command = [sys.executable, "-m", "transfer_conformance.cli", "report", "serve", "--output", str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            line = server.stdout.readline()
            url = line.split(" at ", 1)[1].split(";")[0]
            assert url.startswith("http://127.0.0.1:")
            assert requests.get(url, timeout=5).text == "<html>report</html>"
        finally:
            server.terminate()


RELATIVE_RUN = ("--rule", "transfer-success-status", "--output", "runs/x")


@pytest.mark.run
def test_relative_output_folder_gets_its_report(tmp_path):
    """`--output runs/x` is taken from where the command runs (the report tool runs elsewhere)."""
    done = subprocess.run(
        [sys.executable, "-m", "transfer_conformance.cli", "run", *RELATIVE_RUN],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "report not generated" not in done.stderr
    assert (tmp_path / "runs" / "x" / "html" / "index.html").exists()


@pytest.mark.run
def test_file_regression_leads_with_the_offending_request_and_names_no_python(tmp_path):
    done = run_cli(*FAILING_RUN, "--no-shrink", "--no-report", "--output", str(tmp_path))
    assert done.returncode == 1, done.stdout[-2000:]
    body = run_cli("file-regression", "--output", str(tmp_path)).stdout
    first = body.index("### The request that shows it")
    assert first < body.index("### Expected / Actual") < body.index("step by step")
    assert "agent=unknown, skill=available" in body[first : body.index("```sh")]
    for python in ("TransferBody(", "Falsifying example", "<target ", "Traceback"):
        assert python not in body
    unknown = run_cli("file-regression", "no-such-test", "--output", str(tmp_path))
    assert unknown.returncode == 2
    assert "test_agent_and_skill_behave_as_agent_alone" in unknown.stderr


def test_a_reader_that_leaves_early_gets_no_traceback():
    """As `| head` does: the reader closes the pipe before the command writes."""
    command = [sys.executable, "-m", "transfer_conformance.cli", "list-tests"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr[-2000:]
    assert process.returncode == 0


def test_version_and_run_help_show_defaults_and_exit_codes():
    assert run_main("--version").stdout.startswith("transfer-conformance ")
    text = run_main("run", "--help").stdout
    assert "(default: ci)" in text and "exit codes:" in text and "3  broken" in text


def test_a_target_url_with_a_path_is_one_clear_line():
    done = run_main("run", "--target-url", "http://127.0.0.1:8080/api/account/1")
    assert done.returncode == 2
    assert "give the base URL alone (http://127.0.0.1:8080)" in done.stderr
    assert "Traceback" not in done.stderr


def test_https_to_a_plain_port_asks_whether_http_was_meant(tmp_path):
    with EmbeddedReference() as served:
        url = served.url.replace("http://", "https://")
        done = run_cli("run", "--target-url", url, "--no-report", "--output", str(tmp_path))
    assert done.returncode == 3, done.stdout[-2000:]
    assert "did you mean http://" in done.stdout
    assert done.stdout.count("did you mean") == 1, "said once"


@pytest.mark.parametrize(("value", "says"), [("0", "not a positive number"), ("33", "more than 32")])
def test_concurrency_out_of_range_is_one_clear_line(value, says):
    done = run_main("run", "--concurrency", value, "--no-report")
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr


def test_a_stop_whose_interrupt_was_lost_still_ends_the_run_before_its_next_test_or_example():
    """Ctrl-C or SIGTERM raise KeyboardInterrupt where the run happens to be; Python drops it
    when that is a finalizer (it only prints it), and under load a lane once went on with every
    test it had left. The handler also sets STOP_REQUESTED, which each test and each example
    looks at before it starts."""
    try:
        with guarded_console():
            for signum in (signal.SIGTERM, signal.SIGINT):
                with pytest.raises(KeyboardInterrupt):
                    signal.getsignal(signum)(signum, None)  # type: ignore[operator]
        assert STOP_REQUESTED.is_set()
        with pytest.raises(KeyboardInterrupt):
            RunSession(RunOptions(), load_profile("reference"), "").pytest_runtest_protocol(item=None)
        with pytest.raises(KeyboardInterrupt), Harness.example(object.__new__(Harness)):
            pass
    finally:
        STOP_REQUESTED.clear()
