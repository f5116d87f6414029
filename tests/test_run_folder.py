"""The run's output folder: refused with exit 2 before anyone logs in when it cannot serve, held
by one run at a time, its files private; the run's own files are replaced whole or not at all."""

import os
import resource
import socket
import stat
import subprocess
import sys

import pytest
import requests

from reference_target.embedded import EmbeddedReference
from tests.conftest import run_main
from transfer_conformance.files import replacing
from transfer_conformance.paths import hypothesis_cache
from transfer_conformance.run import folder
from transfer_contract.paths import CHECKOUT


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("kind", ["a file", "under a file", "not writable"])
def test_an_unusable_output_is_exit_2_before_the_target_is_touched(tmp_path, kind):
    # the target URL is a closed port: a run that tried to log in would end broken (3), not 2
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    output = {"a file": a_file, "under a file": a_file / "reports", "not writable": "/sys/kernel"}[kind]
    if kind == "not writable" and not os.path.isdir("/sys/kernel"):
        pytest.skip("no sysfs here: no folder that even root cannot write in")
    done = run_main("run", "--target-url", closed_port_url(), "--output", str(output), "--no-report")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--output {output}" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_folder_in_use_is_refused_naming_the_run_that_holds_it(tmp_path):
    with folder.held(tmp_path):
        done = run_main("run", "--target-url", closed_port_url(), "--output", str(tmp_path), "--no-report")
    assert done.returncode == 2
    assert f"is in use by the run of process {os.getpid()}" in done.stderr
    # released with the run: the next one may take it
    with folder.held(tmp_path):
        pass


def test_the_run_s_files_are_private_unless_shared(tmp_path):
    with folder.held(tmp_path / "private"):
        (tmp_path / "private" / "summary.json").write_text("{}")
        (tmp_path / "private" / "allure-results").mkdir()
    with folder.held(tmp_path / "shared", shared=True):
        (tmp_path / "shared" / "summary.json").write_text("{}")
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "private") == 0o700
    assert mode(tmp_path / "private" / "summary.json") == 0o600
    assert mode(tmp_path / "private" / "allure-results") == 0o700
    assert mode(tmp_path / "shared" / "summary.json") == 0o666 & ~current_umask()


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_file_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "last-run.json"
    target.write_text("the previous run")

    def write_half():
        with replacing(target) as stream:
            stream.write("half of the new")
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_half()
    assert target.read_text() == "the previous run"
    assert [path.name for path in tmp_path.iterdir()] == ["last-run.json"]
    with replacing(target) as stream:
        stream.write("the new run")
    assert target.read_text() == "the new run"


@pytest.mark.run
def test_a_full_disk_mid_run_still_cleans_up_and_ends_broken_naming_it(tmp_path):
    """A write that fails mid-run (here: a file-size limit on the run's process, as a full disk
    does): the run goes on, ends its chats and logs out, writes what it can, and exits 3 with
    one line saying what could not be written; no traceback."""

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    with EmbeddedReference() as reference:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "transfer_conformance.cli",
                "run",
                "--target-url",
                reference.url,
                "--rule",
                "routing-model",
                "--no-report",
                "--output",
                str(tmp_path),
            ],
            cwd=CHECKOUT,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=small_files,
            check=False,
        )
        state = requests.get(f"{reference.url}/_reference/state", timeout=5).json()
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "verdict: broken: the traffic could not all be written" in done.stdout
    assert "File too large" in done.stdout
    assert (state["open_chats"], state["sessions"]) == (0, 0), state


def test_hypothesis_caches_go_to_the_users_cache_not_each_output_folder(tmp_path, monkeypatch):
    """A fresh output folder must not make Hypothesis build its Unicode tables again (the UTF-8
    one alone raised a run's peak memory by about 160 MB)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert hypothesis_cache(tmp_path / "out") == tmp_path / "cache" / "transfer-conformance" / "hypothesis"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert (
        hypothesis_cache(tmp_path / "out")
        == tmp_path / "home" / ".cache" / "transfer-conformance" / "hypothesis"
    )
    monkeypatch.delenv("HOME")
    assert hypothesis_cache(tmp_path / "out") == tmp_path / "out" / ".hypothesis"
