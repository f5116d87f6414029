"""What the documented routing promises over a chat's whole life, as a pure model.

The model knows two agents by role (`transferring`, `receiving`), the profile's skills by key,
and for each chat the suite opened: who holds it, whom it rings for, whether it ended, and the
transfers it went through (its hops). It answers one question per call: what must a conformant
target do now? Where the pages leave the answer open it says so (`Expectation.accepted is None`)
and the routing-model rule neither sends that call nor judges it.

States are immutable and hashable, so the linearizability check (`model.linearizable`) can
search orders of concurrent calls with `step`.

Pages: Transfer a Chat (https://developers.liveperson.com/chat-agent-api-methods-transfer-a-chat.html),
Retrieve Available Skills (…-methods-retrieve-available-skills.html), System Messages
(https://developers.liveperson.com/chat-agent-api-system-messages.html), Set Agent Availability.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

TRANSFERRING, RECEIVING = "transferring", "receiving"
ROLES = (TRANSFERRING, RECEIVING)
ONLINE, AWAY, OCCUPIED = "Online", "Away", "Occupied"
AGENT_MESSAGE, SKILL_MESSAGE = 13, 15


def other(role: str) -> str:
    return RECEIVING if role == TRANSFERRING else TRANSFERRING


@dataclass(frozen=True)
class Hop:
    """One accepted transfer: from whom, to whom, by agent or by skill, with which text."""

    sender: str
    receiver: str
    by: str
    text: str = ""

    @property
    def message(self) -> int:
        """The system message that announces it (13: to an agent, 15: to a skill)."""
        return AGENT_MESSAGE if self.by == "agent" else SKILL_MESSAGE


@dataclass(frozen=True)
class Chat:
    holder: str | None = None
    rings_for: str | None = None
    ended: bool = False
    hops: tuple[Hop, ...] = ()

    @property
    def live(self) -> bool:
        return not self.ended


@dataclass(frozen=True)
class Order:
    """A transfer as the model sends it: ``agent`` a role, ``skill`` a skill key."""

    sender: str
    chat: str
    agent: str | None = None
    skill: str | None = None
    text: str = ""
    encoding: str = "json"

    def describe(self) -> str:
        parts = [f"agent={self.agent}" if self.agent else "", f"skill={self.skill}" if self.skill else ""]
        named = ", ".join(part for part in parts if part) or "neither agent nor skill"
        text = f", text {self.text!r}" if self.text else ", no text"
        return f"the {self.sender} agent transfers {self.chat} ({named}{text}, {self.encoding})"


@dataclass(frozen=True)
class Expectation:
    """What a conformant target does with an order: accepted (200 and the chat moves), refused
    (an error status and nothing changes), or None where the pages leave it open."""

    accepted: bool | None
    receiver: str | None = None
    by: str = ""
    why: str = ""


@dataclass(frozen=True)
class Layout:
    """Which role serves each skill key of the profile (None: no agent the suite logs in)."""

    skill_roles: tuple[tuple[str, str | None], ...]

    @classmethod
    def of(cls, skill_keys: Sequence[str]) -> Layout:
        roles = {
            "available": RECEIVING,
            "second_available": RECEIVING,
            "only_transferring": TRANSFERRING,
            "unavailable": None,
            "unknown": None,
        }
        return cls(tuple((key, roles[key]) for key in skill_keys if key in roles))

    def role_of(self, skill: str) -> str | None:
        return dict(self.skill_roles).get(skill)

    def skills_of(self, role: str) -> tuple[str, ...]:
        return tuple(key for key, served_by in self.skill_roles if served_by == role)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.skill_roles)


@dataclass(frozen=True)
class Routing:
    """The whole model state: the chats by the model's key, and each role's availability."""

    layout: Layout
    chats: tuple[tuple[str, Chat], ...] = ()
    availability: tuple[tuple[str, str], ...] = ((TRANSFERRING, ONLINE), (RECEIVING, ONLINE))

    # ------------------------------------------------------------------ reading
    def chat(self, key: str) -> Chat:
        return dict(self.chats)[key]

    def live_chats(self) -> tuple[str, ...]:
        return tuple(key for key, chat in self.chats if chat.live)

    def held_by(self, role: str) -> tuple[str, ...]:
        return tuple(key for key, chat in self.chats if chat.live and chat.holder == role)

    def ringing_for(self, role: str) -> tuple[str, ...]:
        return tuple(key for key, chat in self.chats if chat.live and chat.rings_for == role)

    def state_of(self, role: str) -> str:
        return dict(self.availability)[role]

    def listed(self, holder: str) -> dict[str, bool | None]:
        """For each skill key, whether Retrieve Available Skills must list it on a chat the
        ``holder`` holds (None: open, as for a skill whose agent is Occupied)."""
        listed: dict[str, bool | None] = {}
        for key, role in self.layout.skill_roles:
            if role is None or role == holder:
                # no agent online, or only the agent already in this chat
                listed[key] = False
            else:
                state = self.state_of(role)
                listed[key] = None if state == OCCUPIED else state == ONLINE
        return listed

    # ------------------------------------------------------------------ judging a transfer
    def expect(self, order: Order) -> Expectation:
        chat = dict(self.chats).get(order.chat)
        if chat is None or chat.ended:
            return Expectation(
                None, why="an ended chat's transfer is a decision (decision-status-ended-chat)"
            )
        if chat.holder != order.sender:
            return Expectation(False, why=f"the {order.sender} agent does not hold {order.chat}")
        if order.agent is not None:
            # the agent id wins over the skill id (Transfer a Chat, Body Parameters note)
            if order.agent == order.sender:
                return Expectation(
                    None, why="a transfer to oneself is a decision (decision-transfer-to-self)"
                )
            if self.state_of(order.agent) != ONLINE:
                return Expectation(None, why="a transfer to an agent not Online is a decision")
            return Expectation(True, order.agent, "agent", f"the {order.agent} agent is Online")
        if order.skill is None:
            return Expectation(False, why="the body names neither an agent nor a skill")
        listed = self.listed(order.sender).get(order.skill, False)
        if listed is None:
            return Expectation(None, why="whether an Occupied agent makes a skill available is a decision")
        if not listed:
            return Expectation(False, why=f"skill {order.skill} is not available for this chat")
        return Expectation(
            True, self.layout.role_of(order.skill), "skill", f"skill {order.skill} is available"
        )

    # ------------------------------------------------------------------ changes
    def _with(self, key: str, chat: Chat) -> Routing:
        chats = dict(self.chats)
        chats[key] = chat
        return replace(self, chats=tuple(sorted(chats.items())))

    def new_chat(self, key: str) -> Routing:
        """A visitor's chat, ringing for the transferring agent (the only one with visitor_skill)."""
        return self._with(key, Chat(rings_for=TRANSFERRING))

    def taken(self, key: str, role: str) -> Routing:
        return self._with(key, replace(self.chat(key), holder=role, rings_for=None))

    def ended(self, key: str) -> Routing:
        return self._with(key, replace(self.chat(key), holder=None, rings_for=None, ended=True))

    def transferred(self, order: Order, expectation: Expectation) -> Routing:
        assert expectation.accepted
        assert expectation.receiver is not None
        chat = self.chat(order.chat)
        hop = Hop(order.sender, expectation.receiver, expectation.by, order.text)
        return self._with(
            order.chat, replace(chat, holder=None, rings_for=hop.receiver, hops=(*chat.hops, hop))
        )

    def with_availability(self, role: str, state: str) -> Routing:
        availability = dict(self.availability)
        availability[role] = state
        return replace(self, availability=tuple(sorted(availability.items())))


# ---------------------------------------------------------------------- concurrent histories
# Requests of a concurrent history: ("transfer", Order), ("end", chat key) or ("availability",
# (role, state)). Answers: the HTTP status, or None when none came.


def step(state: Hashable, request: Any, answer: Any) -> Sequence[Hashable]:
    """The linearizability check's model step: the states ``request`` answered ``answer`` may
    lead to from ``state`` (none: that answer is impossible there). An unanswered call (None)
    is placed here as one that took effect; the check also tries leaving it out."""
    assert isinstance(state, Routing)
    kind, subject = request
    unanswered = answer is None
    ok = unanswered or 200 <= answer < 300
    refused = not unanswered and answer >= 400
    if kind == "availability":
        role, value = subject
        # a refused change is not this model's to judge: it changed nothing
        return [state.with_availability(role, value)] if ok else [state]
    if kind == "end":
        chat = dict(state.chats).get(subject)
        if chat is None or chat.ended:
            return [state] if refused or unanswered else []
        return [state.ended(subject)] if ok else []
    expectation = state.expect(subject)
    if expectation.accepted is None:
        return [state]  # an open case never constrains the order
    if expectation.accepted:
        return [state.transferred(subject, expectation)] if unanswered or answer == 200 else []
    return [state] if refused or unanswered else []


def replay(state: Routing, requests: Sequence[Any], answers: Sequence[Any], order: Sequence[int]) -> Routing:
    """The state after the calls of a linearizable history, in the order the check found."""
    for index in order:
        following = step(state, requests[index], answers[index])
        assert following, "replay of an order the check accepted"
        state = following[0]  # type: ignore[assignment]
    return state


def describe_state(state: Routing, chat_ids: Mapping[str, str] | None = None) -> str:
    """The model's state in a line a QA engineer can read."""
    parts = []
    for key, chat in state.chats:
        if chat.ended:
            where = "ended"
        elif chat.holder:
            where = f"held by {chat.holder}"
        else:
            where = f"ringing for {chat.rings_for}"
        parts.append(f"{key} {where} after {len(chat.hops)} transfer(s)")
    parts.extend(f"{role} {value}" for role, value in state.availability)
    return "; ".join(parts)
