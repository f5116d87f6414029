"""The packages are layers that import one way: contract, then strategies and the reference
target (apart from each other), then the harness. Nothing dodges a cycle with a late import."""

import ast
from pathlib import Path

import pytest

from transfer_contract.paths import CHECKOUT

# What each package may import of the project's packages (besides itself).
LAYERS = {
    "transfer_contract": set(),
    "strategies": {"transfer_contract"},
    "reference_target": {"transfer_contract"},
    "transfer_conformance": {"transfer_contract", "strategies", "reference_target"},
}


def project_imports(path: Path):
    """(module imported, whether at function level) for each import of a project package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    late = {
        id(node)
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            if name.split(".")[0] in LAYERS:
                yield name, id(node) in late


@pytest.mark.parametrize("package", list(LAYERS))
def test_package_imports_only_the_layers_below_it(package):
    wrong = []
    for path in sorted((CHECKOUT / package).rglob("*.py")):
        for name, _ in project_imports(path):
            top = name.split(".")[0]
            if top != package and top not in LAYERS[package]:
                wrong.append(f"{path.relative_to(CHECKOUT)} imports {name}")
    assert not wrong


def test_no_project_module_is_imported_inside_a_function():
    late = [
        f"{path.relative_to(CHECKOUT)} imports {name} in a function"
        for package in LAYERS
        for path in sorted((CHECKOUT / package).rglob("*.py"))
        for name, in_function in project_imports(path)
        if in_function
    ]
    assert not late
