"""What a run opened on its target, written as it happens, so that a run that was killed can be
cleaned up after (`transfer-conformance cleanup`, or the next run on the same folder).

One line an event, flushed at once, so it survives the process: `opened CHAT`, `ended CHAT`,
`availability ROLE STATE` (what the agent's availability was when the run logged it in). Chat
ids and availability only: never a secret.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

LEDGER_FILE = "ledger.txt"


@dataclass
class Leftovers:
    """What a run's ledger says it left: chats opened and not ended, availability found."""

    chats: list[str] = field(default_factory=list)
    availability: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.chats and not self.availability


def read_leftovers(path: Path) -> Leftovers:
    """The leftovers a ledger records (none when there is no ledger)."""
    found = Leftovers()
    if not path.is_file():
        return found
    opened: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "opened" and rest:
            opened[rest] = None
        elif kind == "ended":
            opened.pop(rest, None)
        elif kind == "availability":
            role, _, state = rest.partition(" ")
            if role and state:
                found.availability.setdefault(role, state)
    found.chats = list(opened)
    return found


class Ledger:
    """The run's ledger: appended and flushed line by line (calls answer on several threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.stream = path.open("w", encoding="utf-8")

    def note(self, kind: str, value: str) -> None:
        with self.lock:
            if self.stream.closed:
                return
            # A write that fails (a full disk) must not fail the test: the ledger is an aid.
            with contextlib.suppress(OSError):
                self.stream.write(f"{kind} {value}\n")
                self.stream.flush()

    def close(self) -> None:
        with self.lock, contextlib.suppress(OSError):
            self.stream.close()
