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


# The harness's rooms, bottom up: what each may import of the harness (besides itself). The
# package's own modules (errors, paths, the version) are the ground floor every room stands on.
HARNESS = CHECKOUT / "transfer_conformance"
GROUND = {"errors", "paths", "files", "__init__"}
ROOMS = {
    # the documented API as pure data and functions: it imports no other room
    "model": set(),
    "http": set(),
    "target_api": {"http"},
    "run": {"http"},
    "plugin": {"http", "target_api", "run"},
    "commands": {"http", "target_api", "run", "plugin"},
    "cli": {"commands"},
}


def room_of(path: Path) -> str:
    relative = path.relative_to(HARNESS)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


@pytest.mark.parametrize("room", list(ROOMS))
def test_harness_room_imports_only_the_rooms_below_it(room):
    wrong = []
    for path in sorted(HARNESS.rglob("*.py")):
        if room_of(path) != room:
            continue
        for name, _ in project_imports(path):
            parts = name.split(".")
            if parts[0] != "transfer_conformance" or len(parts) < 2:
                continue
            other = parts[1]
            if other not in (room, *GROUND) and other not in ROOMS[room]:
                wrong.append(f"{path.relative_to(CHECKOUT)} imports {name}")
    assert not wrong


def test_ground_floor_imports_no_room():
    wrong = [
        f"{path.name} imports {name}"
        for path in HARNESS.glob("*.py")
        if path.stem in GROUND
        for name, _ in project_imports(path)
        if name.startswith("transfer_conformance.") and name.split(".")[1] not in GROUND
    ]
    assert not wrong


def test_commands_import_none_of_each_other():
    wrong = [
        f"{path.name} imports {name}"
        for path in sorted((HARNESS / "commands").glob("*.py"))
        for name, _ in project_imports(path)
        if name.startswith("transfer_conformance.commands")
    ]
    assert not wrong


def test_no_harness_function_is_more_complex_than_c():
    """radon's cyclomatic complexity: A to C (at most 20) reads as one job; D and worse do not."""
    from radon.complexity import cc_visit

    worse = [
        f"{path.relative_to(CHECKOUT)}:{block.lineno} {block.name} ({block.complexity})"
        for path in sorted(HARNESS.rglob("*.py"))
        for block in cc_visit(path.read_text(encoding="utf-8"))
        if block.complexity > 20
    ]
    assert not worse
