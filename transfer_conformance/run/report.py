"""The Allure 3 report: redaction, categories, known issues, history, and a report that calls nowhere.

Allure 3 comes from npm, pinned with its lockfile in report-tool/, installed on first use with
`npm ci` (offline once installed) and run from node_modules, never downloaded at run time.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import shutil
import subprocess
import webbrowser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from transfer_conformance import __version__
from transfer_conformance.errors import UsageError
from transfer_conformance.files import write_text_atomically
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.paths import REPORT_TOOL, REPORTS
from transfer_conformance.run.known_issues import KnownIssues
from transfer_conformance.run.summary import Outcome, Result, RunSummary

TOOL = REPORT_TOOL
ALLURE = TOOL / "node_modules" / ".bin" / "allure"
TEXT_SUFFIXES = {
    ".json",
    ".txt",
    ".xml",
    ".html",
    ".properties",
    ".csv",
    ".md",
    ".jsonl",
    ".js",
    ".uri",
}
# The analytics tag Allure 3's awesome plugin always writes: the report must call nowhere.
ANALYTICS = re.compile(
    r"<script[^>]*googletagmanager[^>]*></script>\s*<script>\s*window\.dataLayer.*?</script>", re.S
)


class ReportError(UsageError):
    pass


def redact_tree(folder: Path) -> int:
    """Mask every known secret in every text file below ``folder``; JSON stays valid."""
    changed = 0
    if not folder.exists() or not REGISTRY.values():
        return changed
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            changed += redact_file(path)
    return changed


def redact_file(path: Path) -> int:
    """Mask every known secret in one text file (JSON stays valid); 1 if it changed."""
    if not path.is_file() or not REGISTRY.values():
        return 0
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json":
        try:
            masked = json.dumps(REGISTRY.mask_data(json.loads(text)), ensure_ascii=False)
        except ValueError:
            masked = REGISTRY.mask(text)
    else:
        masked = REGISTRY.mask(text)
    if masked == text:
        return 0
    write_text_atomically(path, masked)
    return 1


def ensure_allure() -> Path:
    """Install the pinned Allure from the lockfile on first use."""
    if ALLURE.exists():
        return ALLURE
    npm = shutil.which("npm")
    if npm is None:
        raise ReportError("npm is not installed; install Node.js and npm, or run with --no-report")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=TOOL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not ALLURE.exists():
        raise ReportError(f"npm ci in report-tool failed: {done.stderr.strip()[-500:]}")
    return ALLURE


def categories() -> list[dict[str, Any]]:
    return [
        {"name": "Known issues", "matchers": {"labels": {"known-issue": ".+"}}},
        # `diff --report`'s page: a release that made a rule worse, not a rule of its own.
        {"name": "Release diff: a rule got worse", "matchers": {"labels": {"feature": "^Release diff$"}}},
        {
            "name": "Contract violations (MUST)",
            "matchers": {"statuses": ["failed"], "labels": {"level": "MUST"}},
            "groupBy": [{"label": "rule"}],
        },
        {
            "name": "Contract violations (SHOULD and decisions)",
            "matchers": {"statuses": ["failed"]},
            "groupBy": [{"label": "rule"}],
        },
        {
            "name": "Environment and set-up problems",
            "matchers": {"statuses": ["broken"]},
            "groupByMessage": True,
        },
    ]


def mark_known_issues(results: Path, summary: RunSummary, known: KnownIssues) -> list[dict[str, Any]]:
    """Label the results of known issues (once: a report built again finds them labelled), and
    build Allure resolutions for them."""
    target = summary.target.name
    resolutions: list[dict[str, Any]] = []
    by_node = {r.nodeid: r for r in summary.results}
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        labels = {label["name"]: label["value"] for label in data.get("labels", [])}
        nodeid = _nodeid(data)
        if data.get("status") not in (Outcome.FAILED, Outcome.BROKEN):
            continue
        result = by_node.get(nodeid) or Result(nodeid, Outcome(data["status"]), rule=labels.get("rule"))
        issue = known.find(result, target)
        if issue is None:
            continue
        if "known-issue" not in labels:
            data["labels"].append({"name": "known-issue", "value": issue.ticket or "muted"})
            path.write_text(json.dumps(data), encoding="utf-8")
        rule: dict[str, Any] = {"testCaseId": [data["testCaseId"]]} if "testCaseId" in data else {}
        if issue.muted:
            rule.update(resolution="muted", comment=issue.comment or "muted in known-issues.toml")
        else:
            rule.update(
                resolution="issue",
                issue={"id": issue.ticket, "type": "tracker"},
                comment=issue.comment,
            )
        resolutions.append(rule)
    return resolutions


def _nodeid(result: dict[str, Any]) -> str:
    """The pytest node id of an Allure result (the suite labels each result with it)."""
    labels = result.get("labels", [])
    return next((label["value"] for label in labels if label["name"] == "nodeid"), "")


def write_config(
    root: Path,
    summary: RunSummary,
    resolutions: list[dict[str, Any]],
    single_file: bool,
    tracker_url: str = "",
    append_history: bool = True,
    variables: dict[str, str] | None = None,
) -> Path:
    target = summary.target
    config: dict[str, Any] = {
        "name": f"Transfer a Chat conformance: {target.name or '?'}",
        "output": str(root / ("single-file" if single_file else "html")),
        "historyPath": str(root / "history" / "history.jsonl"),
        "historyLimit": 30,
        "appendHistory": append_history and not single_file,
        "categories": {"rules": categories()},
        "variables": {
            "Target": target.name,
            "Target URL": target.url,
            "Run profile": summary.run_profile,
            "Seed": summary.seed,
            "Suite version": __version__,
            **(variables or {}),
        },
        "plugins": {
            "awesome": {
                "options": {
                    "singleFile": single_file,
                    "reportName": "Transfer a Chat conformance",
                    "groupBy": ["feature", "story"],
                }
            }
        },
    }
    if resolutions:
        config["resolutions"] = {"rules": resolutions}
        if tracker_url:
            config["resolutions"]["links"] = {"tracker": {"urlTemplate": tracker_url}}
    path = root / "allurerc.mjs"
    path.write_text(f"export default {json.dumps(config, indent=1)};\n", encoding="utf-8")
    return path


def generate_report(
    results: Path,
    summary: RunSummary,
    single_file: bool = False,
    root: Path = REPORTS,
    append_history: bool = True,
    variables: dict[str, str] | None = None,
    known: KnownIssues | None = None,
) -> Path:
    """Build the HTML report under ``root`` (cleaned first), with history kept across runs
    (``append_history`` False when the run's report is built again: one history line a run);
    ``known`` are the known issues it marks (none when None)."""
    allure = ensure_allure()
    # Allure runs in ``root``: a relative --output would point below itself there.
    results, root = results.resolve(), root.resolve()
    if not results.exists():
        raise ReportError("no results: run `transfer-conformance run` first")
    output = root / ("single-file" if single_file else "html")
    shutil.rmtree(output, ignore_errors=True)
    history = root / "history"
    history.mkdir(parents=True, exist_ok=True)
    known = known or KnownIssues("", ())
    # Fixtures' set-up and tear-down (logins, clean-up) are the harness's, not the test's: the
    # report shows the test's own steps alone.
    for container in results.glob("*-container.json"):
        container.unlink()
    resolutions = mark_known_issues(results, summary, known)
    target_name = summary.target.name
    (results / "executor.json").write_text(
        json.dumps(
            {
                "name": "transfer-conformance",
                "type": "transfer-conformance",
                "buildName": f"{target_name} {summary.run_profile}",
            }
        ),
        encoding="utf-8",
    )
    config = write_config(
        root, summary, resolutions, single_file, known.tracker_url, append_history, variables
    )
    done = subprocess.run(
        [str(allure), "generate", str(results), "--config", str(config), "--output", str(output)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ReportError(f"allure generate failed: {done.stderr.strip()[-800:]}")
    strip_analytics(output)
    redact_tree(output)
    redact_tree(history)
    return output / "index.html"


def strip_analytics(output: Path) -> None:
    for page in output.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        cleaned = ANALYTICS.sub("", text)
        if cleaned != text:
            page.write_text(cleaned, encoding="utf-8")


def open_report(action: str, root: Path = REPORTS, port: int = 0) -> int:
    """Serve the report on 127.0.0.1 (a multi-file report needs http); `open` also opens a browser."""
    html = root / "html"
    if not (html / "index.html").exists():
        raise ReportError("no report yet: run `transfer-conformance run` or `report generate`")
    handler = functools.partial(_QuietHandler, directory=str(html))
    with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        print(f"serving the report at {url}; stop with Ctrl-C", flush=True)
        if action == "open":
            webbrowser.open(url)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
