"""The run's output folder: checked before anyone logs in, held by one run at a time, private.

A folder that cannot be created or written, or that is a file, is a usage error (exit 2) before
the target is touched. While a run uses a folder it holds an exclusive lock on `.run.lock` in
it (released by the kernel however the run ends), so a second run on the same folder is refused
naming the first. The run's files are created readable by their owner only (umask 077 on top of
the user's own), unless `--shared-output` keeps the user's umask as it is.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from transfer_conformance.errors import UsageError

LOCK_FILE = ".run.lock"
PRIVATE = 0o077


def _problem(error: OSError) -> str:
    return error.strerror or str(error)


def check_writable(folder: Path) -> None:
    """``folder`` exists or can be made, is a folder, and takes a new file; else a UsageError."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--output {folder} is a file, not a folder: give a folder for the run's results")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise UsageError(f"--output {folder} cannot be created: {_problem(error)}") from None
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"--output {folder} is not writable: {_problem(error)}") from None


@contextlib.contextmanager
def held(folder: Path, shared: bool = False) -> Iterator[None]:
    """Use ``folder`` for one run: checked, locked against other runs, files private."""
    check_writable(folder)
    lock_path = folder / LOCK_FILE
    try:
        handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise UsageError(f"--output {folder} is not writable: {_problem(error)}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(handle, 200, 0).decode("utf-8", "replace").strip() or "another run"
            raise UsageError(
                f"--output {folder} is in use by {owner}; give each run its own folder"
            ) from None
        os.ftruncate(handle, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        os.pwrite(handle, f"the run of process {os.getpid()}, started {started}\n".encode(), 0)
        previous = os.umask(0)
        os.umask(previous if shared else previous | PRIVATE)
        try:
            yield
        finally:
            os.umask(previous)
            os.ftruncate(handle, 0)
    finally:
        os.close(handle)
