"""The rule catalogue, the vectors, the suites and the tests do not drift apart."""

import ast
import re
from pathlib import Path

import pytest

from reference_target.faults import FAULTS
from transfer_conformance.paths import SUITES
from transfer_contract.catalogue import KINDS, LEVELS, CatalogueError, checked, rules, vectors
from transfer_contract.paths import CHECKOUT as ROOT

DOCS = "https://developers.liveperson.com/"
# Every MUST rule the transfer page states, and the decisions the specs issue asked for.
TRANSFER_PAGE_MUSTS = {
    "transfer-success-status",
    "agent-or-skill-required",
    "agent-takes-precedence",
    "unavailable-skill-rejected",
    "text-optional",
    "text-only-to-receiving-agent",
    "xml-json-equivalent",
    "bearer-required",
}
REQUIRED_DECISIONS = {
    "decision-status-unavailable-skill",
    "decision-status-unknown-target",
    "decision-status-neither",
    "decision-status-malformed-body",
    "decision-status-chat-not-owned",
    "decision-status-ended-chat",
    "decision-status-bad-bearer",
    "decision-error-body",
    "decision-text-length",
    "decision-text-characters",
    "decision-ids-numeric-strings",
    "decision-text-placement",
    "decision-chat-after-transfer",
    "decision-first-agent-after-transfer",
    "decision-transfer-to-away-agent",
    "decision-transfer-to-max-chats-agent",
    "decision-transfer-to-self",
    "decision-occupied-not-online",
    "decision-body-size-limit",
    "decision-top-level-text",
    "decision-path-suffix",
    "decision-cookies-optional",
}


def rule_markers(folder: Path) -> dict[str, set[str]]:
    """Rule ids named by pytest.mark.rule(...) in each test file of a folder."""
    found: dict[str, set[str]] = {}
    for path in folder.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "rule"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.setdefault(path.name, set()).add(node.args[0].value)
    return found


def test_rule_entries_are_complete():
    for rule in rules().values():
        assert rule.level in LEVELS, rule.id
        assert rule.kind in KINDS, rule.id
        assert rule.doc_url.startswith(DOCS), rule.id
        assert rule.doc_section and rule.title and rule.behaviour, rule.id
        assert rule.check in ("suite", "record"), rule.id
        if rule.kind == "decision":
            assert rule.reason, f"{rule.id}: a decision says why"
        else:
            assert rule.check == "suite", f"{rule.id}: documented rules are checked"
        if rule.level == "MUST":
            assert rule.must_because, f"{rule.id}: a MUST rule says why the pages leave no choice"
            assert not rule.expect, f"{rule.id}: a MUST rule expects nothing a profile could change"


def test_rule_ids_are_unique_and_kebab_case():
    ids = [rule.id for rule in rules().values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule_id) for rule_id in ids)


def test_catalogue_holds_the_transfer_page_musts_and_the_open_points():
    assert TRANSFER_PAGE_MUSTS <= {r.id for r in rules().values() if r.level == "MUST"}
    assert REQUIRED_DECISIONS <= {r.id for r in rules().values() if r.kind == "decision"}


def test_every_checked_rule_has_its_suite_module_and_nothing_else_does():
    markers = rule_markers(SUITES)
    checked = {r.id: r for r in rules().values() if r.check == "suite"}
    for rule_id, rule in checked.items():
        assert markers.get(rule.module) == {rule_id}, f"{rule.module} must mark rule {rule_id}"
    expected_modules = {rule.module for rule in checked.values()}
    assert set(markers) == expected_modules, "suite modules without a checked rule"


def test_every_rule_has_a_vector_or_a_test():
    covered = {rule for vector in vectors() for rule in vector.rules}
    for names in (*rule_markers(SUITES).values(), *rule_markers(ROOT / "tests").values()):
        covered |= names
    missing = [rule_id for rule_id in rules() if rule_id not in covered]
    assert not missing, f"rules with neither a vector nor a test: {missing}"


def test_vectors_name_known_rules_and_read_as_facts():
    descriptions = [vector.id for vector in vectors()]
    assert len(descriptions) == len(set(descriptions)), "vector descriptions are unique"
    for vector in vectors():
        assert vector.rules, vector.id
        assert set(vector.rules) <= set(rules()), vector.id
        lowered = vector.description.lower()
        assert "should" not in lowered and "test that" not in lowered, vector.id
        if not vector.valid:
            assert set(vector.invalid_because) == {"json", "xml"}, vector.id


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_every_fault_names_a_checked_rule(fault):
    assert fault.rule in rules()
    assert rules()[fault.rule].check == "suite"


def test_faults_cover_the_transfer_page_musts():
    assert TRANSFER_PAGE_MUSTS <= {fault.rule for fault in FAULTS}
    assert len(FAULTS) >= 15


def test_committed_list_of_conformance_tests_is_current():
    from transfer_conformance.commands.list_tests import LIST, conformance_list

    assert LIST.read_text(encoding="utf-8") == conformance_list(), (
        "specs/conformance-tests.yaml drifted: run `transfer-conformance list-tests --write`"
    )


def test_doc_sections_are_whole():
    """A comma inside an unquoted YAML flow mapping splits a section; parentheses must balance."""
    for rule in rules().values():
        assert rule.doc_section.count("(") == rule.doc_section.count(")"), rule.id


def test_each_suite_names_its_rule_once():
    """The marker names the rule; checks go through the `rule` fixture, not the id again."""
    repeated = {}
    for path in sorted(SUITES.glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        marked = re.search(r'pytest\.mark\.rule\("([^"]+)"\)', text)
        if marked and text.count(f'"{marked.group(1)}"') != 1:
            repeated[path.name] = text.count(f'"{marked.group(1)}"')
    assert not repeated


def test_rules_and_vectors_follow_their_json_schemas():
    # Loading validates: a file off its schema raises CatalogueError before any KeyError.
    assert rules() and vectors()


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"rules": [{"id": "x"}]}, "at rules/0: 'title' is a required property"),
        (
            {
                "rules": [
                    {
                        **{"id": "a", "title": "t", "feature": "f", "kind": "documented"},
                        "level": "MUST",
                        "doc": {"url": "https://developers.liveperson.com/x", "section": "s"},
                        "behaviour": "b",
                    }
                ]
            },
            "must_because",
        ),
        ({"rules": []}, "should be non-empty"),
    ],
)
def test_a_rules_file_off_its_schema_is_a_clear_error(broken, message):
    with pytest.raises(CatalogueError, match=message):
        checked(broken, "rules.schema.json", "rules.yaml")


def test_a_vector_file_off_its_schema_is_a_clear_error():
    broken = {
        "operation": "transferChat",
        "direction": "request",
        "cases": [{"description": "d", "rules": [], "valid": False, "xml": "<transfer/>", "json": {}}],
    }
    with pytest.raises(CatalogueError, match="invalid_because"):
        checked(broken, "vectors.schema.json", "examples/x.yaml")
