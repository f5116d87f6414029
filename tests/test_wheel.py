"""The suite installs as a tool: the wheel, in a fresh environment outside the checkout, runs the
suite against the reference with the specs, suites and profiles it carries."""

import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from transfer_contract.paths import CHECKOUT

pytestmark = [pytest.mark.run, pytest.mark.xdist_group("wheel")]


def run(*command, cwd, timeout=300):
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout[-3000:]} {done.stderr[-3000:]}"
    return done


def test_wheel_installed_outside_the_checkout_runs_the_suite(tmp_path):
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--quiet",
        "-w",
        str(tmp_path / "dist"),
        str(CHECKOUT),
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("transfer_conformance-*.whl")
    env_dir = tmp_path / "env"
    # No pip of its own (ensurepip cost 5 s): this environment's pip installs into it (--python).
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # The dependencies come from this environment's site-packages as a plain path: its .pth
    # files (the checkout's editable finder among them) are not processed, so the project's
    # own packages can only come from the wheel.
    purelib = run(str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path)
    deps = "\n".join(site.getsitepackages())
    (Path(purelib.stdout.strip()) / "zz-deps.pth").write_text(deps + "\n")
    run(
        sys.executable,
        *("-m", "pip", "--python", str(python), "install"),
        *("--no-deps", "--no-index", "--quiet", str(wheel)),
        cwd=tmp_path,
    )
    where = run(
        str(python),
        "-c",
        "import transfer_contract, transfer_conformance; "
        "print(transfer_contract.__file__); print(transfer_conformance.__file__)",
        cwd=tmp_path,
    )
    assert str(CHECKOUT) not in where.stdout, where.stdout
    work = tmp_path / "work"
    work.mkdir()
    done = run(
        str(env_dir / "bin" / "transfer-conformance"),
        "run",
        "--no-report",
        # a rule each of what the wheel must carry: the rules (every rule), the OpenAPI spec
        # (the contract), the XSD (XML answers), the suites and the reference's profile
        *("--rule", "transfer-success-status", "--rule", "openapi-contract", "--rule", "xml-responses-valid"),
        *("--examples", "1"),
        cwd=work,
    )
    assert "transfer-success-status" in done.stdout
    assert (work / "reports" / "last-run.json").is_file()
    # a run leaves nothing but its reports in the folder it runs in
    assert sorted(path.name for path in work.iterdir()) == ["reports"]
    # only committed profiles travel: never a local targets/staging.toml
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            name.split("/targets/", 1)[1]
            for name in archive.namelist()
            if "/targets/" in name and name.endswith(".toml")
        }
    tracked = subprocess.run(
        ["git", "ls-files", "targets"], cwd=CHECKOUT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert shipped and shipped <= {path.removeprefix("targets/") for path in tracked}
