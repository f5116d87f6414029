"""Secrets never leave the run: canary credentials appear nowhere in results, summary, report,
history or regression bodies (the single-file report decoded), and no bearer token either."""

import base64
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli
from transfer_contract.paths import TARGETS

# The module shares one suite run: keep its tests on one xdist worker.
pytestmark = [pytest.mark.run, pytest.mark.xdist_group("canary-run")]

CANARIES = {
    "ref-pass-tara-51c3": "canary-pass-transferring-7f3a91",
    "ref-pass-rico-9a07": "canary-pass-receiving-0c55e2",
    "ref-pass-ada-3f88": "canary-pass-away-b81d04",
    "refkey-7d41c09a": "canary-appkey-5e2f77",
}
# A bearer token (not a $LP_ placeholder, not the suite's deliberately fake one).
BEARER = re.compile(r"Bearer\s+(?!\$LP_|tc-never-issued)[A-Za-z0-9_\-]{16,}")
BASE64 = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")


def texts_below(folder: Path):
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            yield path, text
            for blob in BASE64.findall(text):
                try:
                    yield path, base64.b64decode(blob + "=" * (-len(blob) % 4)).decode("utf-8", "replace")
                except ValueError:
                    continue


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("canary")
    profile = (TARGETS / "reference.toml").read_text(encoding="utf-8")
    for real, canary in CANARIES.items():
        profile = profile.replace(real, canary)
    path = folder / "canary.toml"
    path.write_text(profile, encoding="utf-8")
    output = folder / "reports"
    done = run_cli(
        "run",
        "--target",
        str(path),
        "--fault",
        "text_shown_to_visitor",
        "--rule",
        "text-only-to-receiving-agent",
        "--rule",
        "bearer-required",
        "--rule",
        "openapi-contract",
        "--examples",
        "3",
        "--output",
        str(output),
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    single = run_cli("report", "--single-file", "--output", str(output))
    assert single.returncode == 0, single.stderr
    regression = run_cli("file-regression", "--output", str(output))
    (output / "regression.md").write_text(regression.stdout, encoding="utf-8")
    return output, done.stdout + done.stderr


def test_no_canary_secret_anywhere(canary_run):
    output, console = canary_run
    assert (output / "html" / "index.html").exists()
    assert (output / "single-file" / "index.html").exists()
    for path, text in [*texts_below(output), (Path("console"), console)]:
        for canary in CANARIES.values():
            assert canary not in text, f"{canary} leaked into {path}"


def test_no_bearer_token_anywhere(canary_run):
    output, console = canary_run
    for path, text in [*texts_below(output), (Path("console"), console)]:
        assert not BEARER.search(text), f"a bearer token leaked into {path}"


def test_regression_body_has_a_curl_with_placeholders(canary_run):
    output, _ = canary_run
    body = (output / "regression.md").read_text(encoding="utf-8")
    assert "text-only-to-receiving-agent" in body and "curl -sS" in body
    assert "$LP_BEARER" in body


def test_secrets_were_there_to_mask(canary_run):
    """The run really sent the secrets: their placeholders stand where they were."""
    output, _ = canary_run
    results = "".join(text for _, text in texts_below(output / "allure-results"))
    assert "$LP_APP_KEY" in results and "$LP_BEARER" in results


def test_traffic_har_holds_placeholders_not_secrets(canary_run):
    """traffic.har (scanned with every other output above) shows where the secrets went."""
    output, _ = canary_run
    har = (output / "traffic.har").read_text(encoding="utf-8")
    # Password and csrf fields are masked wholesale (***), bearers and the app key by name.
    assert "$LP_BEARER" in har and "$LP_APP_KEY" in har and "$LP_SESSION_ID_TRANSFERRING" in har
