"""Writing the run's files so that a crash never leaves a half-written one as the current one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[TextIO]:
    """A text stream whose content becomes ``path`` only once it is whole: written beside it,
    flushed to disk, then renamed over it (a rename within one folder is atomic). On any error
    the old file stays and the half-written one is removed."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_text_atomically(path: Path, text: str) -> None:
    with replacing(path) as stream:
        stream.write(text)
