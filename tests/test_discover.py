"""`discover` learns a target's decisions: on the reference and on every conformant variant,
with every [decisions] table taken out of their profiles, the table it writes equals the one
their authors declared, and a strict run with it passes."""

import re

import pytest

from reference_target.embedded import EmbeddedReference
from tests.conftest import WIDENED_MUST, run_cli
from transfer_conformance.commands.bench import variant_names
from transfer_conformance.commands.discover import BEGIN, as_toml, table, write_into
from transfer_contract.catalogue import rules
from transfer_contract.paths import TARGETS
from transfer_contract.tomlfile import read_toml

pytestmark = pytest.mark.run

# Variants whose declared table is the reference's: discover must learn exactly that on them
# (their dialects must not confuse it); the strict run with that table is the reference's own.
SAME_TABLE = {
    "docs-order",
    "extra-fields",
    "lists-uncollapsed",
    "visitor-host",
    "events-paged",
    "starts-away",
}
# Decisions that widen what MUST generators send (a longer text, more characters, string ids).
WIDENING = {"decision-text-length", "decision-text-characters", "decision-ids-numeric-strings"}
DECISION_TABLE = re.compile(r'(?ms)^\[decisions\."[^"]+"\]\n(?:[^\[\n][^\n]*\n|\n)*')


def undeclared_copy(name, folder):
    """The target's profile, and the reference it extends, without any [decisions] table."""
    reference = DECISION_TABLE.sub("", (TARGETS / "reference.toml").read_text(encoding="utf-8"))
    (folder / "reference.toml").write_text(reference + "\n", encoding="utf-8")
    if name == "reference":
        return folder / "reference.toml"
    text = (TARGETS / "variants" / f"{name}.toml").read_text(encoding="utf-8")
    text = text.replace('extends = "../reference.toml"', 'extends = "reference.toml"')
    path = folder / f"{name}.toml"
    path.write_text(DECISION_TABLE.sub("", text) + "\n", encoding="utf-8")
    return path


def declared(name):
    path = TARGETS / ("reference.toml" if name == "reference" else f"variants/{name}.toml")
    return read_toml(path).get("decisions", {})


@pytest.mark.parametrize("name", ["reference", *variant_names()])
def test_discovered_table_is_the_declared_one_and_passes_strictly(name, tmp_path):
    profile = undeclared_copy(name, tmp_path)
    assert "decisions" not in read_toml(profile)
    done = run_cli("discover", "--target", str(profile), "--write")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert read_toml(profile)["decisions"] == declared(name), done.stdout[-3000:]
    if name in SAME_TABLE or name == "reference":
        # the reference's own table: tests/test_documented_dialect.py runs every test strictly
        return
    # The rules this table changes, on a small budget: the decisions it declares, and the MUST
    # rules that widen to them. Every other rule expects what the reference's own strict run
    # passes with (tests/test_fault_matrix.py); bench runs every declared table in full, and
    # tests/test_variants.py every rule on the riskiest variants.
    table = set(declared(name))
    changed = sorted(rule for rule in table if rules()[rule].check == "suite")
    changed += list(WIDENED_MUST) if table & WIDENING else []
    strict = run_cli(
        "run",
        "--target",
        str(profile),
        "--strict",
        "--no-report",
        "--examples",
        "2",
        "--no-shrink",
        *(argument for rule in changed for argument in ("--rule", rule)),
        "--output",
        str(tmp_path / "r"),
    )
    assert strict.returncode == 0, strict.stdout[-3000:]


def test_write_keeps_other_lines_and_replaces_old_entries(tmp_path):
    profile = tmp_path / "staging.toml"
    profile.write_text(
        '# staging, eu region\nname = "staging"  # kept\n\n'
        '# an old guess\n[decisions."decision-status-neither"]\nstatus = 418\n\n'
        '[decisions."decision-hostile-xml"]\nskip = "behind a WAF"\n',
        encoding="utf-8",
    )
    found = {"decision-status-neither": {"status": (422, "seen 2 of 2 times", "curl …")}}
    write_into(profile, found, as_toml(found, "staging"))
    text = profile.read_text(encoding="utf-8")
    assert "# staging, eu region" in text and 'name = "staging"  # kept' in text
    assert "an old guess" not in text and "418" not in text
    data = read_toml(profile)
    assert data["decisions"]["decision-status-neither"] == {"status": 422}
    assert data["decisions"]["decision-hostile-xml"] == {"skip": "behind a WAF"}
    # A second --write replaces the first one's block, comments and all.
    again = {"decision-status-neither": {"status": (409, "seen 1 of 1 times", "curl …")}}
    write_into(profile, again, as_toml(again, "staging", {"decision-path-suffix": "Expected: x / Actual: y"}))
    text = profile.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and "422" not in text and "# staging, eu region" in text
    data = read_toml(profile)
    assert data["decisions"]["decision-status-neither"] == {"status": 409}
    assert "decision-path-suffix" not in data["decisions"], "an unexplained failure is never declared"
    assert '# [decisions."decision-path-suffix"]' in text


def test_a_server_error_or_success_where_an_error_is_due_is_never_learnt():
    seen = [
        {"rule": "decision-status-unknown-target", "key": "status", "value": 500, "curl": "c", "status": 500},
        {"rule": "decision-hostile-xml", "key": "status", "value": 200, "curl": "c", "status": 200},
        {"rule": "decision-status-neither", "key": "status", "value": 422, "curl": "c", "status": 422},
    ]
    found, not_choices = table(seen)
    assert set(found) == {"decision-status-neither"}
    assert set(not_choices) == {"decision-status-unknown-target", "decision-hostile-xml"}


def test_a_broken_decision_is_shown_not_declared():
    """Against a reference that expands XML entities (a fault), discover declares nothing for
    the hostile-XML decision and says why, commented out."""
    with EmbeddedReference(("entities_expanded",)) as served:
        done = run_cli("discover", "--target", "reference", "--target-url", served.url)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert '\n[decisions."decision-hostile-xml"]' not in done.stdout
    assert '# [decisions."decision-hostile-xml"]' in done.stdout
    assert "1 decision(s) the target does not follow as decided" in done.stdout


def test_only_differences_and_widening_entries_are_written():
    seen = [
        {"rule": "decision-status-neither", "key": "status", "value": 400, "curl": "c1", "status": 400},
        {"rule": "decision-status-neither", "key": "status", "value": 422, "curl": "c2", "status": 422},
        {"rule": "decision-status-neither", "key": "status", "value": 422, "curl": "c3", "status": 422},
        {"rule": "decision-hostile-xml", "key": "status", "value": 400, "curl": "c4", "status": 400},
        {"rule": "decision-text-length", "key": "max_chars", "value": 4000, "curl": "c5", "status": 400},
    ]
    found, not_choices = table(seen)
    assert not not_choices
    value, how_often, evidence = found["decision-status-neither"]["status"]
    assert (value, how_often) == (422, "seen 2 of 3 times") and evidence.endswith("c2")
    assert "decision-hostile-xml" not in found, "the default is not declared"
    assert found["decision-text-length"]["max_chars"][0] == 4000, "a widening entry is declared"


def test_a_decision_that_cannot_be_judged_costs_only_itself(tmp_path):
    """Against a reference that accepts transfers to an unavailable skill (a fault), the
    error-body decision's precondition (a refusal) never holds: it is named as not judged and
    the run exits 3, while everything else learnt is still printed and written."""
    profile = undeclared_copy("reference", tmp_path)
    with EmbeddedReference(("unavailable_skill_accepted",)) as served:
        done = run_cli("discover", "--target", str(profile), "--target-url", served.url, "--write")
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    assert "could not be judged" in done.stdout and "  decision-error-body: " in done.stdout
    assert '# [decisions."decision-status-unavailable-skill"]' in done.stdout
    assert read_toml(profile)["decisions"]["decision-text-length"] == {"max_chars": 4000}
