"""The generated report, opened in headless Chromium (Debian's chromium), shows the run's rules
and a failure's request and response. In CI (CI=true) this test must run."""

import json
import os
import re
import shutil
import subprocess
import threading
from functools import partial
from html import unescape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import FAILING_RUN, run_cli
from tests.hostile_targets import POLL_S

# The module shares one suite run: keep its tests on one xdist worker.
pytestmark = [pytest.mark.run, pytest.mark.xdist_group("chromium-report")]

CHROMIUM = shutil.which("chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("needs Debian's chromium package (apt-get install chromium)", allow_module_level=True)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def page_dom(url: str, profile_dir) -> str:
    assert CHROMIUM is not None, "CI must install Debian's chromium (see .ci/run)"
    return subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile_dir}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def as_text(dom: str) -> str:
    dom = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom)).replace("&amp;", "&")


def page_text(url: str, profile_dir) -> str:
    return as_text(page_dom(url, profile_dir))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    output = tmp_path_factory.mktemp("report")
    done = run_cli(*FAILING_RUN, "--rule", "transfer-success-status", "--output", str(output))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    html = output / "html"
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(html)))
    # shutdown() is seen between waits of poll_interval: half a second each by default
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    yield html, f"http://127.0.0.1:{server.server_address[1]}", output
    server.shutdown()
    server.server_close()


def test_report_calls_nowhere(report):
    html, _, _ = report
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "googletagmanager" not in text and "gtag(" not in text


def test_overview_shows_the_rules_of_the_run(report, tmp_path):
    _, url, _ = report
    text = page_text(f"{url}/index.html", tmp_path / "chromium")
    assert "The agent id wins over the skill id" in text
    assert "A valid transfer answers 200" in text
    assert "Failed 1" in text


def test_failure_shows_its_request_and_response(report, tmp_path):
    html, url, _ = report
    failed = [json.loads(p.read_text()) for p in (html / "data" / "test-results").glob("*.json")]
    (result,) = [r for r in failed if r.get("status") == "failed"]
    text = page_text(f"{url}/index.html#/{result['id']}", tmp_path / "chromium")
    assert "[agent-takes-precedence]" in text
    assert "Expected:" in text and "Actual:" in text
    assert "curl -sS -i -X POST" in text and "/transfer?v=1" in text
    assert "Authorization: Bearer $LP_BEARER" in text
    assert re.search(r"Response: [2-5]\d\d", text)
    assert re.search(r"transfer \(json\): agent=\w+, skill=\w+: POST", text)  # the example's steps


def test_second_run_adds_to_the_history(report):
    _, _, output = report
    history = output / "history" / "history.jsonl"
    before = len(history.read_text().splitlines())
    done = run_cli(*FAILING_RUN, "--output", str(output))
    assert done.returncode == 1
    assert len(history.read_text().splitlines()) == before + 1


def test_diff_is_a_page_of_the_report(report, tmp_path):
    """`diff A B --report` puts the diff into B's report, under Release diff, failed because a
    rule got worse; the history keeps one line per run."""
    _, _, output = report
    later = tmp_path / "later"
    shutil.copytree(output, later)
    earlier = tmp_path / "earlier"
    done = run_cli("run", "--rule", "agent-takes-precedence", "--no-report", "--output", str(earlier))
    assert done.returncode == 0, done.stdout[-2000:]
    history = (later / "history" / "history.jsonl").read_text().splitlines()
    done = run_cli("diff", str(earlier), str(later), "--report")
    assert done.returncode == 1 and "report (with the diff under Release diff)" in done.stdout, done.stdout
    assert (later / "history" / "history.jsonl").read_text().splitlines() == history
    pages = [json.loads(p.read_text()) for p in (later / "html" / "data" / "test-results").glob("*.json")]
    (page,) = [p for p in pages if p["name"] == "What changed since earlier"]
    assert page["status"] == "failed"
    html = later / "html"
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        dom = page_dom(f"{url}/index.html#/{page['id']}", tmp_path / "chromium")
    finally:
        server.shutdown()
        server.server_close()
    assert "What changed since earlier" in as_text(dom)
    # Allure shows a description in a frame of its own: its HTML is the frame's srcdoc.
    frame = re.search(r'<iframe[^>]*title="Description"[^>]*srcdoc="([^"]*)"', dom)
    assert frame, "no description frame"
    assert "agent-takes-precedence ok violated yes" in as_text(unescape(frame.group(1)))


def test_titles_are_behaviours_and_the_offending_request_is_the_failed_step(report, tmp_path):
    html, url, output = report
    results = [json.loads(p.read_text()) for p in (html / "data" / "test-results").glob("*.json")]
    (failed,) = [r for r in results if r.get("status") == "failed"]
    assert failed["name"].startswith("A body naming an agent and a skill"), failed["name"]
    assert not any(r["name"].startswith("test_") for r in results)
    steps = failed.get("steps", [])
    failed_steps = [s for s in steps if s.get("status") == "failed"]
    assert len(failed_steps) == 1 and "agent=unknown, skill=available" in failed_steps[0]["name"]
    text = page_text(f"{url}/index.html#/{failed['id']}", tmp_path / "chromium")
    assert failed["name"] in text
    # no fixture set-up or tear-down steps: the test's own requests only
    assert not list((output / "allure-results").glob("*-container.json"))
    assert "hypothesis-statistics" not in (output / "junit.xml").read_text(encoding="utf-8")
