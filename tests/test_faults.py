"""The fault catalogue is typed: every fault is checked somewhere by member, and no check names
a fault the catalogue does not have (a misspelt one would leave the fault silently off)."""

import ast

from reference_target.faults import FAULTS, FaultName
from transfer_contract.paths import CHECKOUT


def fault_members_used():
    used = {}
    for path in sorted((CHECKOUT / "reference_target").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "FaultName"
            ):
                used.setdefault(node.attr, path.name)
    return used


def test_every_fault_check_names_a_catalogued_fault():
    unknown = {
        name: where for name, where in fault_members_used().items() if name not in FaultName.__members__
    }
    assert not unknown


def test_every_catalogued_fault_is_checked_by_the_simulator():
    checked = {name for name in fault_members_used() if name in FaultName.__members__}
    defined_in_catalogue = {fault.name.name for fault in FAULTS}
    assert defined_in_catalogue <= checked


def test_no_fault_is_checked_as_a_bare_string():
    for path in sorted((CHECKOUT / "reference_target").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
                comparators = [ast.unparse(c) for c in node.comparators]
                assert not any(c.endswith(".faults") for c in comparators), (
                    f"{path.name}: {ast.unparse(node)}"
                )


def test_catalogue_entries_and_names_agree():
    assert [fault.name for fault in FAULTS] == list(FaultName)
