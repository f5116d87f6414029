"""`discover` learns a target's decisions: on conformant variants whose profiles declare nothing,
the table it writes equals the one their authors declared, and a strict run with it passes; on
the reference it finds nothing to declare."""

import re

import pytest

from tests.conftest import run_cli
from transfer_contract.paths import TARGETS
from transfer_contract.tomlfile import read_toml

pytestmark = pytest.mark.xdist_group("discover")
# Variants whose decisions discover can see (a text limit it cannot: see the README).
VARIANTS = ["other-statuses", "xml-attribute-form", "form-encoded-401"]


def undeclared_copy(name, folder):
    """The variant's profile without its [decisions], extending the shipped reference."""
    text = (TARGETS / "variants" / f"{name}.toml").read_text(encoding="utf-8")
    text = text.replace('extends = "../reference.toml"', f'extends = "{TARGETS / "reference.toml"}"')
    text = re.sub(r'(?ms)^\[decisions\."[^"]+"\]\n(?:[^\[\n][^\n]*\n|\n)*', "", text)
    path = folder / f"{name}.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", VARIANTS)
def test_discovered_table_is_the_declared_one_and_passes_strictly(name, tmp_path):
    profile = undeclared_copy(name, tmp_path)
    done = run_cli("discover", "--target", str(profile), "--write")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    declared = read_toml(TARGETS / "variants" / f"{name}.toml")["decisions"]
    reference = read_toml(TARGETS / "reference.toml")["decisions"]
    written = read_toml(profile)["decisions"]
    expected = {rule: entry for rule, entry in declared.items() if reference.get(rule) != entry}
    got = {rule: entry for rule, entry in written.items() if rule in expected or rule not in reference}
    assert got == expected
    strict = run_cli(
        "run", "--target", str(profile), "--strict", "--no-report", "--output", str(tmp_path / "r")
    )
    assert strict.returncode == 0, strict.stdout[-3000:]


def test_reference_has_nothing_to_declare():
    done = run_cli("discover", "--target", "reference")
    assert done.returncode == 0 and "nothing to declare" in done.stdout, done.stdout[-2000:]
