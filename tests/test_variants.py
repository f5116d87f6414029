"""Conformant variants of the reference: each loads, takes its dialect, and the suite raises no
false alarm on it (the whole matrix is `transfer-conformance bench`; here, the riskiest)."""

import pytest
import requests

from reference_target.dialect import Dialect, DialectError
from reference_target.embedded import EmbeddedReference
from reference_target.seed import load_seed
from tests.conftest import BEHAVIOUR_RULES, run_cli, summary_of
from transfer_conformance.commands.bench import variant_names
from transfer_conformance.target_api.profile import load_profile
from transfer_contract.paths import TARGETS

ACCOUNT = "/api/account/90233546"


@pytest.mark.parametrize("name", variant_names())
def test_variant_profile_and_seed_load(name):
    profile = load_profile(f"variants/{name}")
    assert profile.embedded and profile.name == f"variant-{name}"
    dialect = Dialect.from_table(load_seed(TARGETS / "variants" / f"{name}.toml")["reference"]["dialect"])
    assert dialect != Dialect(), "a variant decides something differently"


def test_at_least_eight_variants():
    assert len(variant_names()) >= 8


def test_unknown_dialect_key_is_refused():
    with pytest.raises(DialectError, match="unknown keys: colour"):
        Dialect.from_table({"colour": "blue"})
    with pytest.raises(DialectError, match="unknown cases: teapot"):
        Dialect.from_table({"statuses": {"teapot": 418}})


def test_visitor_api_on_its_own_host():
    with EmbeddedReference(seed_path=TARGETS / "variants" / "visitor-host.toml") as served:
        assert served.visitor_url and served.visitor_url != served.url
        query = "?v=1&appKey=refkey-7d41c09a"
        on_agent_host = requests.get(f"{served.url}{ACCOUNT}/chat/availability{query}", timeout=5)
        on_visitor_host = requests.get(f"{served.visitor_url}{ACCOUNT}/chat/availability{query}", timeout=5)
        assert on_agent_host.status_code == 404
        assert on_visitor_host.status_code == 200
        login = requests.post(f"{served.visitor_url}{ACCOUNT}/login?v=1.3", json={}, timeout=5)
        assert login.status_code == 404


@pytest.mark.parametrize(
    ("name", "strict"),
    [
        ("visitor-host", True),
        ("xml-attribute-form", False),
        ("other-statuses", False),
        ("docs-order", True),
        ("events-paged", True),
    ],
)
@pytest.mark.run
def test_suite_raises_no_false_alarm_on_the_variant(name, strict, tmp_path):
    mode = "--strict" if strict else "--ignore-decisions"
    # A small budget: bench runs every variant with the ci profile's whole budget.
    budget = ("--examples", "2", "--no-shrink", *BEHAVIOUR_RULES)
    done = run_cli(
        "run", "--target", f"variants/{name}", mode, *budget, "--no-report", "--output", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    results = summary_of(tmp_path)["results"]
    assert results and not [r for r in results if r["outcome"] == "broken"]
    # Plain: the variant's own decisions may be reported, but no MUST rule may fail.
    judged = results if strict else [r for r in results if r["level"] == "MUST"]
    assert judged and all(r["outcome"] in ("passed", "skipped") for r in judged), [
        r["rule"] for r in judged if r["outcome"] == "failed"
    ]


@pytest.mark.run
def test_undeclared_xml_form_is_found_at_set_up(tmp_path):
    done = run_cli(
        "run",
        "--target",
        "variants/xml-text-form",
        "--ignore-decisions",
        "--rule",
        "xml-json-equivalent",
        "--no-report",
        "--output",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert summary_of(tmp_path)["xml_transfer_form"] == "text (found at set-up)"
