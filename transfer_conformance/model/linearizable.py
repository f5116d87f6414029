"""Is a concurrent history linearizable against a model? Wing & Gong's search, with the
memoization of Lowe (as Porcupine and Knossos do it).

A history is the calls some clients made at once, each with when it was invoked, when its
answer came, what it asked and what it was answered. It is linearizable when some order of the
calls, each placed between its invocation and its answer, makes the model give every answer
seen. A call with no answer (a timeout) may have taken effect or not: it is placed anywhere
after its invocation, or left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

# A model's step: (state, what was asked, what was answered or None) -> the states it allows
# next (none: that answer is impossible from that state). States must be hashable.
Step = Callable[[Hashable, Any, Any], Sequence[Hashable]]


@dataclass(frozen=True)
class Call:
    """One call of a history: invoked at ``start``, answered at ``end`` (None: no answer)."""

    start: float
    end: float | None
    request: Any
    answer: Any = None
    label: str = ""

    @property
    def answered(self) -> bool:
        return self.end is not None


@dataclass
class _Entry:
    time: float
    is_call: bool
    index: int
    match: _Entry | None = None
    prev: _Entry | None = field(default=None, repr=False)
    next: _Entry | None = field(default=None, repr=False)


def _entries(history: Sequence[Call]) -> _Entry:
    """The history as a doubly linked list of invocations and answers in time order, behind a
    head sentinel. At equal times invocations come first: two calls that touch are concurrent
    (the lenient reading; the check never blames a target for a tie of clocks)."""
    events: list[tuple[float, int, int]] = []
    for index, call in enumerate(history):
        events.append((call.start, 0, index))
        events.append((call.end if call.end is not None else math.inf, 1, index))
    events.sort()
    head = _Entry(-math.inf, False, -1)
    last = head
    calls: dict[int, _Entry] = {}
    for time, kind, index in events:
        entry = _Entry(time, kind == 0, index)
        if kind == 0:
            calls[index] = entry
        else:
            calls[index].match = entry
        entry.prev, last.next = last, entry
        last = entry
    return head


def _lift(entry: _Entry) -> None:
    """Take a call and its answer out of the list."""
    for node in (entry, entry.match):
        assert node is not None
        assert node.prev is not None
        node.prev.next = node.next
        if node.next is not None:
            node.next.prev = node.prev


def _unlift(entry: _Entry) -> None:
    """Put a lifted call and its answer back where they were."""
    for node in (entry.match, entry):
        assert node is not None
        assert node.prev is not None
        node.prev.next = node
        if node.next is not None:
            node.next.prev = node


@dataclass
class Verdict:
    """Whether the history is linearizable; if so, one order that explains it (call indexes)."""

    linearizable: bool
    order: list[int] = field(default_factory=list)
    explored: int = 0


def check(history: Sequence[Call], initial: Hashable, step: Step, max_steps: int = 1_000_000) -> Verdict:
    """Search an order of ``history``'s calls that ``step`` explains from ``initial``.

    A call without an answer may also have had no effect: once only such calls are left, they
    are left out. ``max_steps`` bounds the search (a ValueError past it: the history is too
    large to judge, never a verdict either way)."""
    head = _entries(history)
    state: Hashable = initial
    done = 0  # bitset of the calls placed
    # each placement: the call's entry, the state and bitset before it, which successor it took
    stack: list[tuple[_Entry, Hashable, int, int]] = []
    seen: set[tuple[int, Hashable]] = set()
    entry = head.next
    first_choice = 0
    explored = 0
    while not _only_unanswered_left(head):
        explored += 1
        if explored > max_steps:
            raise ValueError(
                f"the history of {len(history)} calls needs more than {max_steps} steps to judge"
            )
        assert entry is not None
        if entry.is_call:
            call = history[entry.index]
            successors = step(state, call.request, call.answer if call.answered else None)
            chosen = None
            for choice in range(first_choice, len(successors)):
                key = (done | (1 << entry.index), successors[choice])
                if key not in seen:
                    seen.add(key)
                    chosen = choice
                    break
            first_choice = 0
            if chosen is None:
                entry = entry.next
                continue
            stack.append((entry, state, done, chosen))
            state, done = successors[chosen], done | (1 << entry.index)
            _lift(entry)
            entry = head.next
        else:
            # An answer came before its call could be placed: undo the last placement and try
            # that call's next successor, or what follows it.
            if not stack:
                return Verdict(False, [], explored)
            entry, state, done, tried = stack.pop()
            _unlift(entry)
            first_choice = tried + 1
    return Verdict(True, [placed.index for placed, _, _, _ in stack], explored)


def _only_unanswered_left(head: _Entry) -> bool:
    """Whether every call still in the list got no answer: leaving them out explains them."""
    node = head.next
    while node is not None:
        if node.is_call and node.match is not None and node.match.time != math.inf:
            return False
        node = node.next
    return True
