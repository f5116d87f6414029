"""The simulator's state: agents, logins, sessions, chats and their events, and the rules on them.

Everything here is synchronous and runs on the server's one event loop, so each method is
atomic with respect to other requests; that is what makes two concurrent transfers of one
chat resolve to exactly one winner.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reference_target.dialect import Dialect
from reference_target.faults import NTH_TRANSFER, FaultName
from transfer_contract.domain import PLAIN_ALPHABET

DOCUMENTED_CHARACTERS = frozenset(PLAIN_ALPHABET)

AVAILABILITY_STATES = ("Online", "Away", "Occupied")
# Numeric chat states of the available-agents list (api-facts §1.2.5).
STATE_CODES = {"Offline": "1", "Online": "2", "Occupied": "3", "Away": "4"}

SYSTEM_TO_AGENT = 13
SYSTEM_TO_SKILL = 15


class ApiError(Exception):
    """A refusal with an HTTP status, a message and the error body's internal code."""

    def __init__(self, status: int, message: str, internal_code: int) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.internal_code = internal_code


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Agent:
    id: str
    username: str
    password: str
    nickname: str
    skills: tuple[str, ...]
    max_chats: int
    availability: str = "Online"
    chats: set[str] = field(default_factory=set)
    # for the away_after_login_still_routed fault: Online at some point since login
    been_online: bool = True


@dataclass
class Session:
    id: str
    agent_id: str
    last_used: float


@dataclass
class Event:
    id: int
    type: str
    time: str
    fields: dict[str, Any]
    agents_only: bool = False


@dataclass
class Chat:
    id: str
    skill_id: str
    started: str
    last_update: float
    state: str = "waiting"
    holder: str | None = None
    # What the chat rings for while no agent holds it: ("skill", id) or ("agent", id).
    ringing: tuple[str, str] | None = None
    excluded: frozenset[str] = frozenset()
    ended_at: float | None = None
    events: list[Event] = field(default_factory=list)
    ring_order: int = 0
    ring_started: float = 0.0
    # accepted transfers so far, and who held the chat, for the faults of a chat's life
    transfers: int = 0
    holders: list[str] = field(default_factory=list)
    taken_order: int = 0
    # the start as the epoch in milliseconds, as Retrieve Chat Sessions gives it
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    def add(self, type_: str, agents_only: bool = False, **fields: Any) -> Event:
        event = Event(len(self.events), type_, now_iso(), fields, agents_only)
        self.events.append(event)
        self.last_update = time.monotonic()
        return event


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 65536
    session_idle_s: float = 400.0
    bearer_idle_s: float = 3600.0
    chat_idle_s: float = 900.0
    ended_chat_retention_s: float = 60.0
    # Accept Chat, note 2: a chat assigned to an agent and not accepted in time sets the agent Away.
    accept_timeout_s: float = 20.0
    sweep_every_s: float = 1.0


class World:
    """One account's agents, skills, logins, sessions and chats."""

    def __init__(
        self,
        account_id: str,
        visitor_app_key: str,
        agents: list[Agent],
        skill_names: dict[str, str],
        limits: Limits,
        faults: frozenset[FaultName] = frozenset(),
        dialect: Dialect | None = None,
    ) -> None:
        self.account_id = account_id
        self.visitor_app_key = visitor_app_key
        self.agents = {agent.id: agent for agent in agents}
        self.by_username = {agent.username: agent for agent in agents}
        self.skill_names = skill_names
        self.skill_by_name = {name: skill_id for skill_id, name in skill_names.items()}
        self.limits = limits
        self.faults = faults
        self.dialect = dialect or Dialect()
        self.bearers: dict[str, tuple[str, float]] = {}
        # Session_id cookie -> (bearer, csrf) of the login that set it
        self.cookies: dict[str, tuple[str, str]] = {}
        # host[:port] of each service, for the login's csdsCollectionResponse (set by serve)
        self.service_hosts: dict[str, str] = {}
        self.sessions: dict[str, Session] = {}
        self.chats: dict[str, Chat] = {}
        self._ring_counter = itertools.count()
        self.accepted_transfers = 0
        self._skills_cache: dict[str, list[tuple[str, str, int]]] = {}
        self._last_sweep = time.monotonic()

    # ------------------------------------------------------------------ housekeeping
    def sweep(self) -> None:
        """Forget idle logins and sessions, idle chats and ended chats past retention.

        Runs at most once a second from request handling, so a long run keeps flat memory.
        """
        now = time.monotonic()
        if now - self._last_sweep < self.limits.sweep_every_s:
            return
        self._last_sweep = now
        self._time_out_unaccepted(now)
        for token, (_, used) in list(self.bearers.items()):
            if now - used > self.limits.bearer_idle_s:
                del self.bearers[token]
        for cookie, (token, _) in list(self.cookies.items()):
            if token not in self.bearers:
                del self.cookies[cookie]
        for session_id, session in list(self.sessions.items()):
            if now - session.last_used > self.limits.session_idle_s:
                del self.sessions[session_id]
        for chat_id, chat in list(self.chats.items()):
            if chat.ended_at is not None:
                expired = now - chat.ended_at > self.limits.ended_chat_retention_s
            else:
                expired = now - chat.last_update > self.limits.chat_idle_s
            if expired:
                self._drop_chat(chat)
                del self.chats[chat_id]

    def _time_out_unaccepted(self, now: float) -> None:
        """Every agent a chat has rung for past accept_timeout_s is set Away (the documented
        idle rule); the chat keeps ringing for whoever else can take it."""
        for chat in self.chats.values():
            if chat.ringing is None or chat.state == "ended" or chat.holder is not None:
                continue
            if now - chat.ring_started < self.limits.accept_timeout_s:
                continue
            for agent in self.agents.values():
                if self._can_ring(chat, agent):
                    agent.availability = "Away"
            chat.ring_started = now

    def _drop_chat(self, chat: Chat) -> None:
        if chat.holder is not None:
            self.agents[chat.holder].chats.discard(chat.id)

    def summary(self) -> dict[str, int]:
        """Counts for the reference-only state summary."""
        open_chats = sum(1 for chat in self.chats.values() if chat.state != "ended")
        return {
            "bearers": len(self.bearers),
            "sessions": len(self.sessions),
            "chats": len(self.chats),
            "open_chats": open_chats,
            "ringing_chats": sum(
                1 for c in self.chats.values() if c.ringing is not None and c.state != "ended"
            ),
        }

    # ------------------------------------------------------------------ login and sessions
    def login(self, username: str, password: str) -> tuple[str, Agent]:
        agent = self.by_username.get(username)
        given = password.encode("utf-8", "surrogatepass")
        if agent is None or not secrets.compare_digest(agent.password.encode("utf-8"), given):
            raise ApiError(401, "invalid username or password", 10)
        token = secrets.token_urlsafe(24)
        self.bearers[token] = (agent.id, time.monotonic())
        # The documented login also sets a Session_id cookie and gives a csrf token, which
        # refresh and logout take (Login Service API, Refresh and Logout pages).
        cookie, csrf = secrets.token_hex(16), secrets.token_hex(12)
        self.cookies[cookie] = (token, csrf)
        return token, agent

    def login_of_cookie(self, cookie: str | None, csrf: str | None) -> str:
        """The bearer of a login by its Session_id cookie, checking its csrf token."""
        entry = self.cookies.get(cookie or "")
        if entry is None or entry[0] not in self.bearers:
            raise ApiError(401, "unknown or expired Session_id", 20)
        if not csrf or not secrets.compare_digest(entry[1].encode(), csrf.encode("utf-8", "surrogatepass")):
            raise ApiError(401, "CSRF token invalid!", 10)
        return entry[0]

    def session_cookie_of(self, token: str) -> tuple[str, str]:
        return next((cookie, csrf) for cookie, (owner, csrf) in self.cookies.items() if owner == token)

    def logout(self, token: str) -> None:
        agent_id, _ = self.bearers.pop(token)
        for cookie, (owner, _) in list(self.cookies.items()):
            if owner == token:
                del self.cookies[cookie]
        if not any(owner == agent_id for owner, _ in self.bearers.values()):
            for session_id, session in list(self.sessions.items()):
                if session.agent_id == agent_id:
                    del self.sessions[session_id]

    def agent_for_bearer(self, token: str | None) -> Agent:
        entry = self.bearers.get(token) if token else None
        if entry is None:
            raise ApiError(401, "missing or unacceptable bearer", 20)
        self.bearers[token] = (entry[0], time.monotonic())  # type: ignore[index]
        return self.agents[entry[0]]

    def start_session(self, agent: Agent) -> Session:
        # Numeric, as the pages' examples (.../agentSession/1027882276) and the clients' [0-9]*$.
        session_id = str(10**9 + secrets.randbelow(9 * 10**9))
        session = Session(session_id, agent.id, time.monotonic())
        if not self.is_logged_in(agent):
            agent.availability = self.dialect.login_availability
        self.sessions[session.id] = session
        return session

    def session_for(self, session_id: str, agent: Agent | None) -> tuple[Session, Agent]:
        """The session, checked against the calling agent (None: the fault let no bearer in)."""
        session = self.sessions.get(session_id)
        if session is None:
            raise ApiError(404, f"agent session {session_id} not found", 21)
        owner = self.agents[session.agent_id]
        if (
            agent is not None
            and agent.id != owner.id
            and FaultName.FOREIGN_SESSION_ACCEPTED not in self.faults
        ):
            raise ApiError(403, "the agent session belongs to another agent", 22)
        session.last_used = time.monotonic()
        return session, owner

    def is_logged_in(self, agent: Agent) -> bool:
        return any(session.agent_id == agent.id for session in self.sessions.values())

    def chat_state_of(self, agent: Agent) -> str:
        return agent.availability if self.is_logged_in(agent) else "Offline"

    # ------------------------------------------------------------------ availability
    def set_availability(self, agent: Agent, state: str) -> None:
        if FaultName.AVAILABILITY_NOT_SAVED not in self.faults:
            agent.availability = state
            agent.been_online = agent.been_online or state == "Online"

    # ------------------------------------------------------------------ routing
    def _can_ring(self, chat: Chat, agent: Agent) -> bool:
        if chat.holder is not None or chat.ringing is None or chat.state == "ended":
            return False
        kind, target = chat.ringing
        if not self.is_logged_in(agent) or len(agent.chats) >= agent.max_chats:
            return False
        if kind == "agent":
            return target == agent.id and agent.availability in ("Online", "Occupied")
        return target in agent.skills and self._routed(agent) and agent.id not in chat.excluded

    def _routed(self, agent: Agent) -> bool:
        """Whether skill routing counts this agent (Online; Occupied too where the dialect says)."""
        return agent.availability == "Online" or (
            agent.availability == "Occupied" and self.dialect.occupied_routed
        )

    def ringing_for(self, agent: Agent) -> list[Chat]:
        ringing = [chat for chat in self.chats.values() if self._can_ring(chat, agent)]
        return sorted(ringing, key=lambda chat: chat.ring_order)

    def take(self, agent: Agent) -> Chat:
        ringing = self.ringing_for(agent)
        if not ringing:
            raise ApiError(404, "no chat is ringing for this agent", 30)
        chat = ringing[0]
        chat.holder = agent.id
        chat.holders.append(agent.id)
        chat.taken_order = next(self._ring_counter)
        chat.ringing = None
        chat.excluded = frozenset()
        chat.state = "chatting"
        agent.chats.add(chat.id)
        chat.add("state", state="chatting")
        chat.add(
            "line",
            text=f"{agent.nickname} joined the chat.",
            textType="plain",
            by="info",
            source="system",
            systemMessageId=3,
            subType="REGULAR",
        )
        return chat

    # ------------------------------------------------------------------ visitor side
    def request_chat(self, skill_name: str) -> Chat:
        skill_id = self.skill_by_name.get(skill_name)
        if skill_id is None:
            raise ApiError(400, f"unknown skill {skill_name!r}", 40)
        # Shaped as LivePerson's chat ids: H<digits>-<hex>K<digits>.
        chat_id = f"H{secrets.randbelow(10**19)}-{secrets.token_hex(16)}K{secrets.randbelow(10**7)}"
        chat = Chat(chat_id, skill_id, now_iso(), time.monotonic())
        chat.ringing = ("skill", skill_id)
        chat.ring_order = next(self._ring_counter)
        chat.ring_started = time.monotonic()
        chat.add("state", state="waiting")
        chat.add(
            "line",
            text="Routing your chat; an agent will join soon.",
            textType="plain",
            by="info",
            source="system",
            systemMessageId=4,
            subType="REGULAR",
        )
        self.chats[chat_id] = chat
        return chat

    def visitor_chat(self, chat_id: str) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(404, "Chat session not found", 12)
        return chat

    def skill_available_to_visitor(self, skill_name: str | None) -> bool:
        skills = (
            [self.skill_by_name[skill_name]]
            if skill_name in self.skill_by_name
            else ([] if skill_name else list(self.skill_names))
        )
        return any(
            self.is_logged_in(agent) and agent.availability == "Online" and skill in agent.skills
            for agent in self.agents.values()
            for skill in skills
        )

    # ------------------------------------------------------------------ chats of a session
    def agent_chat(self, owner: Agent, chat_id: str, read: bool = False) -> Chat:
        """The chat, if it is this agent's (``read``: or one it passed on, where the dialect lets a
        former holder read)."""
        chat = self.chats.get(chat_id)
        reads_passed_on = (
            read and self.dialect.former_holder_reads and chat is not None and owner.id in chat.holders
        )
        if chat is None or (chat.holder != owner.id and not reads_passed_on):
            raise ApiError(404, f"chat {chat_id} is not a chat of this agent session", 14)
        return chat

    def add_line(self, chat: Chat, source: str, by: str, fields: dict[str, Any]) -> Event:
        if chat.state == "ended":
            raise ApiError(409, "the chat has ended", 13)
        agents_only = source == "agent" and fields.get("subType") == "ONLY_TO_REP"
        return chat.add(
            "line",
            agents_only=agents_only,
            text=fields.get("text") or "",
            textType=fields.get("textType", "plain"),
            by=by,
            source=source,
            subType=fields.get("subType", "REGULAR"),
        )

    def end_chat(self, chat: Chat) -> Event:
        if chat.state == "ended":
            raise ApiError(409, "the chat has ended", 13)
        chat.state = "ended"
        chat.ringing = None
        chat.ended_at = time.monotonic()
        if chat.holder is not None:
            self.agents[chat.holder].chats.discard(chat.id)
        return chat.add("state", state="ended")

    # ------------------------------------------------------------------ transfer
    def available_skills(self, chat: Chat) -> list[tuple[str, str, int]]:
        """(id, name, online agents) of the skills this chat can go to now."""
        if FaultName.SKILLS_LIST_STALE in self.faults:
            if chat.id not in self._skills_cache:
                self._skills_cache[chat.id] = self._available_skills(chat)
            return self._skills_cache[chat.id]
        return self._available_skills(chat)

    def _available_skills(self, chat: Chat) -> list[tuple[str, str, int]]:
        engaged = set() if FaultName.SKILLS_LIST_COUNTS_CURRENT_AGENT in self.faults else {chat.holder}
        listed = []
        for skill_id, name in self.skill_names.items():
            agents = [a for a in self.agents.values() if skill_id in a.skills]
            online = [a for a in agents if a.id not in engaged and self.is_logged_in(a) and self._routed(a)]
            if online:
                listed.append((skill_id, name, len(online)))
            elif agents and FaultName.SKILLS_LIST_LISTS_OFFLINE in self.faults:
                listed.append((skill_id, name, len(agents)))
        return listed

    def check_transferable(self, chat: Chat) -> None:
        if chat.state == "ended":
            raise ApiError(409, "the chat has ended and cannot be transferred", 13)

    def transfer(
        self,
        chat: Chat,
        owner: Agent,
        agent_id: str | None,
        skill_id: str | None,
        text: str,
        from_xml: bool,
    ) -> None:
        """Apply a transfer or raise ApiError leaving everything as it was."""
        self.check_transferable(chat)
        skill_wins = FaultName.SKILL_WINS_OVER_AGENT in self.faults or (
            from_xml and FaultName.XML_SKILL_WINS in self.faults
        )
        if agent_id is not None and skill_id is not None and skill_wins:
            agent_id = None
        if agent_id is None and skill_id is None:
            if FaultName.NEITHER_ACCEPTED in self.faults:
                return
            raise ApiError(400, "a transfer names an agent or a skill", 41)
        if not text and FaultName.MISSING_TEXT_REJECTED in self.faults:
            raise ApiError(400, "a transfer text is required", 42)
        limit = self.dialect.text_max_chars - (FaultName.TEXT_AT_LIMIT_REFUSED in self.faults)
        if len(text) > limit:
            raise ApiError(400, f"the text is longer than {self.dialect.text_max_chars} characters", 62)
        if self.dialect.text_characters == "documented" and not set(text) <= DOCUMENTED_CHARACTERS:
            raise ApiError(400, "the text holds characters beyond letters, digits and plain punctuation", 65)
        if FaultName.NON_ASCII_TEXT_REFUSED in self.faults and not text.isascii():
            raise ApiError(400, "the text holds characters outside ASCII", 64)
        if agent_id is not None:
            target = self._transfer_agent(owner, agent_id)
            if FaultName.TRANSFER_BACK_REFUSED in self.faults and target.id in chat.holders:
                raise ApiError(400, f"agent {agent_id} already had this chat", 49)
            ringing, excluded, message = ("agent", target.id), frozenset(), SYSTEM_TO_AGENT
            if FaultName.SYSTEM_MESSAGE_SWAPPED in self.faults:
                message = SYSTEM_TO_SKILL
            announce = f"Transferring the chat to {target.nickname}."
        else:
            assert skill_id is not None
            self._check_skill(chat, skill_id)
            ringing, excluded, message = ("skill", skill_id), frozenset({owner.id}), SYSTEM_TO_SKILL
            announce = f"Transferring the chat to {self.skill_names[skill_id]}."
        if FaultName.WRONG_CHAT_MOVES in self.faults and len(owner.chats) > 1:
            chat = min((self.chats[other] for other in owner.chats), key=lambda held: held.taken_order)
        self.accepted_transfers += 1
        if (FaultName.SECOND_HOP_NOOP in self.faults and chat.transfers >= 1) or (
            FaultName.NTH_TRANSFER_NOOP in self.faults and self.accepted_transfers >= NTH_TRANSFER
        ):
            return
        self._apply_transfer(chat, owner, ringing, excluded, message, announce, text)

    def _transfer_agent(self, owner: Agent, agent_id: str) -> Agent:
        target = self.agents.get(agent_id)
        if target is None:
            if FaultName.UNKNOWN_AGENT_500 in self.faults:
                raise RuntimeError(f"agent {agent_id} vanished")
            raise ApiError(400, f"agent {agent_id} does not exist", 43)
        if target.id == owner.id:
            raise ApiError(400, "an agent cannot transfer a chat to themselves", 44)
        if not self.is_logged_in(target) or target.availability not in ("Online", "Occupied"):
            raise ApiError(400, f"agent {agent_id} is not available for chats", 45)
        if len(target.chats) >= target.max_chats:
            raise ApiError(400, f"agent {agent_id} holds their maximum of chats", 46)
        return target

    def _check_skill(self, chat: Chat, skill_id: str) -> None:
        if skill_id not in self.skill_names:
            raise ApiError(400, f"skill {skill_id} does not exist", 47)
        if FaultName.UNAVAILABLE_SKILL_ACCEPTED in self.faults:
            return
        if FaultName.AWAY_AFTER_LOGIN_STILL_ROUTED in self.faults and any(
            skill_id in agent.skills
            and agent.id != chat.holder
            and self.is_logged_in(agent)
            and agent.been_online
            for agent in self.agents.values()
        ):
            return
        if all(listed_id != skill_id for listed_id, _, _ in self.available_skills(chat)):
            if FaultName.UNAVAILABLE_SKILL_MOVES_CHAT in self.faults:
                self._leave(chat, self.agents[chat.holder])  # type: ignore[index]
            raise ApiError(400, f"skill {skill_id} has no available agent", 48)

    def _leave(self, chat: Chat, owner: Agent) -> None:
        if FaultName.SECOND_TRANSFER_ACCEPTED in self.faults:
            return
        if FaultName.PASSED_ON_CHAT_KEPT in self.faults and chat.holders[:1] != [owner.id]:
            return
        owner.chats.discard(chat.id)
        chat.holder = None

    def _apply_transfer(
        self,
        chat: Chat,
        owner: Agent,
        ringing: tuple[str, str],
        excluded: frozenset[str],
        message: int,
        announce: str,
        text: str,
    ) -> None:
        later_hop = chat.transfers >= 1
        chat.transfers += 1
        self._leave(chat, owner)
        chat.ringing = ringing
        chat.excluded = excluded
        chat.ring_order = next(self._ring_counter)
        chat.ring_started = time.monotonic()
        if not (later_hop and FaultName.SECOND_HOP_UNANNOUNCED in self.faults):
            chat.add(
                "line",
                text=announce,
                textType="plain",
                by="info",
                source="system",
                systemMessageId=message,
                subType="REGULAR",
            )
        shown = FaultName.TEXT_SHOWN_TO_VISITOR in self.faults or (
            later_hop and FaultName.SECOND_HOP_TEXT_TO_VISITOR in self.faults
        )
        if text and FaultName.TEXT_DROPPED not in self.faults:
            chat.add(
                "line",
                agents_only=not shown,
                text=text,
                textType="plain",
                by=owner.nickname,
                source="agent",
                subType="ONLY_TO_REP",
            )

    def unowned_transfer(self, agent: Agent, chat_id: str) -> None:
        """Called before a transfer's ownership check: for the refused_transfer_unrings fault,
        a transfer by an agent the chat only rings for stops it ringing for them."""
        chat = self.chats.get(chat_id)
        if (
            FaultName.REFUSED_TRANSFER_UNRINGS in self.faults
            and chat is not None
            and self._can_ring(chat, agent)
        ):
            chat.ringing = None
