"""requirements.lock pins every Python package set-up installs, with hashes, and agrees with
pyproject.toml: a change to one without the other fails here, not in tomorrow's nightly."""

import re
import tomllib

from transfer_contract.paths import CHECKOUT

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^ \\\\]+)")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins():
    pins, hashed = {}, set()
    current = None
    for line in (CHECKOUT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        found = PIN.match(line)
        if found:
            current = canonical(found.group(1))
            pins[current] = found.group(2)
        elif current and line.strip().startswith("--hash=sha256:"):
            hashed.add(current)
    return pins, hashed


def project_pins():
    project = tomllib.loads((CHECKOUT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted.extend(extra)
    return {canonical(spec.split("==")[0]): spec.split("==")[1] for spec in wanted}


def test_every_project_pin_is_in_the_lock_at_the_same_version():
    pins, _ = lock_pins()
    differ = {
        name: (version, pins.get(name))
        for name, version in project_pins().items()
        if pins.get(name) != version
    }
    assert not differ, (
        f"pyproject.toml and requirements.lock disagree (README: update the pinned packages): {differ}"
    )


def test_every_locked_package_is_pinned_with_a_hash():
    pins, hashed = lock_pins()
    assert len(pins) > len(project_pins()), "the lock pins what the project's packages need too"
    assert set(pins) == hashed


def test_the_lock_names_no_machine_path():
    text = (CHECKOUT / "requirements.lock").read_text(encoding="utf-8")
    assert not re.search(r"--find-links|--index-url|--extra-index-url|file://", text)


def test_set_up_installs_from_the_lock_with_pip_pinned():
    setup = (CHECKOUT / "bin" / "setup").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in setup
    assert re.search(r"pip install --quiet pip==\d", setup)
    assert "--upgrade pip" not in setup
