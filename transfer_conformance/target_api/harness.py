"""The scenarios the rules are checked in: agents on line, fresh chats, and what a transfer did.

A `Harness` logs the profile's agents in once per run, hands each test fresh chats (taken by
the transferring agent) and ends every chat it created when the test is over, pass or fail.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import pytest

from transfer_conformance.http.client import STOP_REQUESTED, Exchange, UndecodableResponse
from transfer_conformance.target_api.api import ChatApi
from transfer_conformance.target_api.auth import AgentContext
from transfer_conformance.target_api.calls import SetupError
from transfer_conformance.target_api.checks import check
from transfer_conformance.target_api.profile import check_origin
from transfer_contract.spec import xsd_paths
from transfer_contract.transfer_body import Ids, TransferBody, render
from transfer_contract.xmlcodec import TRANSFER_FORMS, XmlBodyError, xsd_codec

TRANSFER_MESSAGES = (13, 15)
# The most pages of events the suite follows through `next` links for one read of a chat.
MAX_EVENT_PAGES = 50
STRAY_LIMIT = 20
XML_FORM_RULE = "decision-xml-transfer-form"
T = TypeVar("T")


def as_list(value: Any) -> list[Any]:
    """The API collapses one-item lists; this undoes it (None and '' are no items)."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def decode(exchange: Exchange, operation_id: str) -> Any:
    """The response body as JSON-convention data, decoding XML with the XSD."""
    if exchange.content_type.endswith("xml"):
        paths = xsd_paths(operation_id, "response", str(exchange.status)) or [None]
        errors = []
        for path in paths:
            try:
                return xsd_codec().decode(exchange.content, path)
            except XmlBodyError as exc:
                errors.append(exc.reason)
        raise UndecodableResponse(f"XML the XSD does not accept: {'; '.join(errors)}", exchange)
    return exchange.json()


def events_of(chat_body: Any) -> list[dict[str, Any]]:
    """Events of a chat resource body or an events body."""
    root = chat_body.get("chat", chat_body) if isinstance(chat_body, dict) else {}
    events = root.get("events", {}) if isinstance(root, dict) else {}
    return [
        e for e in as_list(events.get("event") if isinstance(events, dict) else None) if isinstance(e, dict)
    ]


def next_link(chat_body: Any) -> str:
    """The `next` link of a chat resource's events (or of an events body), or ''."""
    root = chat_body.get("chat", chat_body) if isinstance(chat_body, dict) else {}
    events = root.get("events", {}) if isinstance(root, dict) else {}
    links = as_list(events.get("link")) if isinstance(events, dict) else []
    for link in links:
        if isinstance(link, dict) and link.get("@rel", link.get("rel")) == "next":
            return str(link.get("@href", link.get("href", "")))
    return ""


def system_messages(events: list[dict[str, Any]]) -> tuple[int, ...]:
    found = []
    for event in events:
        try:
            message = int(event.get("systemMessageId"))
        except (TypeError, ValueError):
            continue
        if message in TRANSFER_MESSAGES:
            found.append(message)
    return tuple(found)


def all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)
    elif value is not None:
        yield str(value)


@dataclass(frozen=True)
class Outcome:
    """What a transfer attempt did, in terms any conformant target shares."""

    status: int | None
    first_agent_holds: bool
    receiver_took_it: bool
    announced: tuple[int, ...]
    visitor_state: str

    def describe(self) -> str:
        return (
            f"status {self.status}, first agent still holds the chat: {self.first_agent_holds}, "
            f"receiving agent could take it: {self.receiver_took_it}, "
            f"transfer system messages: {list(self.announced) or 'none'}, "
            f"visitor state: {self.visitor_state}"
        )


class Harness:
    def __init__(self, api: ChatApi, ids: Ids) -> None:
        self.api = api
        self.ids = ids
        self.profile = api.profile
        self.agents: dict[str, AgentContext] = {}
        self.created: list[str] = []
        # Chats of an example that is over, not ended yet (end_later).
        self.ending: list[str] = []
        # chats kept over many examples (kept_chat), ended at the end of the test that kept them
        self.kept: list[str] = []
        # every chat this run opened; any other chat its agents meet is another client's
        self.ours: set[str] = set()
        # what another client on the same agents was seen doing, in order
        self.interference: list[str] = []
        # The XML form of agent and skill this target takes: declared, or found at set-up.
        self.xml_form = str(self.profile.decisions.get(XML_FORM_RULE, {}).get("form", ""))
        self.xml_form_source = "declared" if self.xml_form else ""
        # Told what the run opens and finds (run.ledger), so that a killed run can be cleaned up.
        self.ledger: Callable[[str, str], None] = lambda kind, value: None

    def __repr__(self) -> str:
        # Shown in Hypothesis' failing examples: name the target, not an object address.
        return f"<target {self.profile.name}>"

    def decision(self, rule_id: str) -> dict[str, Any]:
        """What the profile says this target does for a decision (rules.yaml by default).

        A profile entry `skip = "why"` skips the decision's checks on that target.
        """
        expected = self.profile.decision(rule_id)
        if expected.get("skip"):
            pytest.skip(f"{self.profile.name} profile: {expected['skip']}")
        return expected

    @staticmethod
    def precondition(holds: bool, what: str, judged_by: str = "") -> None:
        """Stop a test whose set-up the target refused: the result is broken, not a violation
        of the test's rule (``judged_by`` names the rule that judges the refusal itself)."""
        if not holds:
            where = f"; {judged_by} judges that" if judged_by else ""
            pytest.fail(f"precondition: {what}{where}", pytrace=False)

    @contextlib.contextmanager
    def example(self) -> Iterator[None]:
        """One Hypothesis example: its own request history and its chats ended afterwards."""
        if STOP_REQUESTED.is_set():
            raise KeyboardInterrupt("the run was asked to stop")
        self.api.client.forget_history()
        try:
            yield
        except BaseException as error:
            # Hypothesis may run other examples after this one fails: keep the failing
            # example's requests on the error, so the report shows those.
            if not hasattr(error, "exchanges"):
                error.exchanges = list(self.api.client.history)  # type: ignore[attr-defined]
            raise
        finally:
            self.end_later()

    def together(self, *calls: Callable[[], T]) -> list[T]:
        """Independent calls at once, within the profile's concurrency (RecordingClient.together)."""
        return self.api.client.together(*calls)

    # ------------------------------------------------------------------ agents
    def log_in_agents(self) -> None:
        """Every agent of the profile logged in, with an agent session of its own (all at once)."""
        logins = self.api.profile.agents

        def log_in(role: str) -> None:
            # kept as soon as it is made: a set-up that fails half-way logs out whoever it logged in
            self.agents[role] = self.api.auth.log_in(logins[role])

        try:
            self.together(*(partial(log_in, role) for role in logins))
        finally:
            # the profile's order, whichever answered first
            self.agents = {role: self.agents[role] for role in logins if role in self.agents}

    def bring_agents_online(self) -> None:
        self.log_in_agents()
        roles = list(self.agents)
        for role, availability in self.availabilities(roles).items():
            if availability:
                self.ledger("availability", f"{role} {availability}")

        def set_state(role: str) -> None:
            state = "Away" if role == "away" else "Online"
            self.api.expect_status(self.api.set_availability(self.agents[role], state), 200)

        self.together(*(partial(set_state, role) for role in roles))
        if not self.xml_form:
            self.find_xml_form()

    def find_xml_form(self) -> None:
        """The XML transfer form the target accepts, tried one by one on fresh chats.

        The form is undocumented (decision-xml-transfer-form): rules that send XML must speak
        the target's own form, or they would judge our guess instead of the target.
        """
        body = TransferBody(agent="receiving")
        try:
            for form in TRANSFER_FORMS:
                chat_id = self.open_chat()
                raw, content_type = render(body, self.ids, "xml", form)
                exchange = self.api.transfer(
                    self.transferring, chat_id, raw, content_type, f"find the XML transfer form: {form}"
                )
                if exchange.status == 200:
                    self.xml_form, self.xml_form_source = form, "found at set-up"
                    return
            self.xml_form, self.xml_form_source = "element", "none accepted; the default"
        finally:
            self.clean_up()

    def availability_changed_by_others(self) -> list[str]:
        """The agents whose availability is not what this run last set (Online by default): set
        by another client, or by the target after a chat rang unanswered (Accept Chat, note 2)."""
        changed = []
        for role, found in self.availabilities(("transferring", "receiving")).items():
            expected = self.api.availability_set.get(role, "Online")
            if found is not None and found != expected:
                changed.append(f"the {role} agent is {found}, which this run did not set (it set {expected})")
        return changed

    def availabilities(self, roles: Iterable[str]) -> dict[str, str | None]:
        """Each role's availability as the target reads it now (read at once)."""
        roles = list(roles)
        found = self.together(*(partial(self.availability_of, self.agents[role]) for role in roles))
        return dict(zip(roles, found, strict=True))

    def availability_of(self, agent: AgentContext) -> str | None:
        """The agent's chat availability as the target reads it (None when it cannot be read)."""
        answer = self.api.get_availability(agent)
        try:
            return str(answer.json()["availability"]["chat"])
        except (ValueError, KeyError, TypeError):
            return None

    def end_leftovers(self, chat_ids: list[str]) -> int:
        """End chats an earlier run of this suite opened and never ended (its ledger says
        which); the number the target ended now (the others had ended already)."""
        ended = 0
        with self.api.client.grace():
            for chat_id in chat_ids:
                with contextlib.suppress(Exception):
                    ended += self.api.visitor_end(chat_id).status < 300
        return ended

    def restore_availability(self) -> list[str]:
        """Make sure the transferring and receiving agents are Online before a test that needs
        them, setting them back where the target changed them (a real one sets an agent Away
        whose chat rang unanswered); the roles restored."""
        found = self.availabilities(("transferring", "receiving"))
        restored = [role for role, availability in found.items() if availability != "Online"]

        def set_online(role: str) -> None:
            self.api.expect_status(self.api.set_availability(self.agents[role], "Online"), 200)

        self.together(*(partial(set_online, role) for role in restored))
        return restored

    @property
    def transferring(self) -> AgentContext:
        return self.agents["transferring"]

    @property
    def receiving(self) -> AgentContext:
        return self.agents["receiving"]

    def log_out(self) -> None:
        def log_out(agent: AgentContext) -> None:
            with contextlib.suppress(Exception):
                self.api.auth.logout(agent)

        with self.api.client.grace():
            self.together(*(partial(log_out, agent) for agent in self.agents.values()))

    # ------------------------------------------------------------------ chats
    def ring_new_chat(self) -> str:
        """A new chat, ringing for the transferring agent (nobody takes it). The chats the
        previous example left to end are ended, all at once, while the visitor requests this
        one: each call is on a chat of its own, so the order cannot change what any finds."""
        if self.ending and self.api.client.concurrency > 1:
            ending = [partial(self.end_chat, chat_id) for chat_id in self.take_ending()]
            chat_id, *ended = self.together(self.request_chat, *ending)
            self.forget(ended)
            return chat_id
        return self.request_chat()

    def request_chat(self) -> str:
        """The visitor requests a chat; it is this run's from the moment its id is known (even
        if the run is stopped before the caller sees it: clean-up and the ledger have it)."""
        chat_id = self.api.request_chat()
        self.created.append(chat_id)
        self.ours.add(chat_id)
        self.ledger("opened", chat_id)
        return chat_id

    def note_interference(self, what: str) -> None:
        """Another client acts on the same agents: said in the run's results, never judged."""
        self.interference.append(what)

    def foreign(self, chat_id: str, role: str) -> None:
        """A chat this run did not open reached the ``role`` agent: another client's. It is left
        as it is (never ended: it is not ours); its owner ends it."""
        self.note_interference(f"the {role} agent was given chat {chat_id}, which this run did not open")

    def holds(self, agent: AgentContext, chat_id: str) -> bool:
        """Whether ``agent`` holds the chat already: another session of the same agent (another
        client logged in as it) may have taken it for us."""
        return self.api.agent_chat(agent, chat_id).status == 200

    def open_chat(self) -> str:
        """A new chat, requested by a visitor and taken by the transferring agent."""
        chat_id = self.ring_new_chat()
        for _ in range(STRAY_LIMIT):
            taken = self.api.take_chat(self.transferring)
            if taken is None:
                if self.holds(self.transferring, chat_id):
                    self.note_interference(f"another session of the transferring agent took chat {chat_id}")
                    return chat_id
                raise SetupError(
                    "the transferring agent could not take the new chat: does only the "
                    "transferring agent have visitor_skill, and is it Online?"
                )
            if taken == chat_id:
                return chat_id
            if taken not in self.ours:
                self.foreign(taken, "transferring")
                if self.holds(self.transferring, chat_id):
                    return chat_id
                continue
            # One of this run's own chats left ringing: end it and take again.
            self.end_chat(taken)
        raise SetupError("the transferring agent kept being offered other chats")

    def end_chat(self, chat_id: str) -> Exchange | None:
        """The visitor ends the chat; the request, or None if it could not be sent or read."""
        with contextlib.suppress(Exception):
            exchange = self.api.visitor_end(chat_id)
            self.ledger("ended", chat_id)
            return exchange
        return None

    def end_later(self) -> None:
        """An example's chats, ended with the next example's first chat request (their
        latency overlapped), or before anything else is sent (RecordingClient.settle)."""
        if self.created:
            self.ending.extend(reversed(self.created))
            self.created.clear()
            self.api.client.pending = self.end_pending

    def take_ending(self) -> list[str]:
        chats, self.ending = self.ending, []
        self.api.client.pending = None
        return chats

    def forget(self, exchanges: list[Exchange | None]) -> None:
        """Keep the requests that ended an example that is over out of the current example's
        history (its evidence and its replay are its own requests only)."""
        ended = {id(exchange) for exchange in exchanges if exchange is not None}
        history = self.api.client.history
        history[:] = [exchange for exchange in history if id(exchange) not in ended]

    def end_pending(self) -> None:
        """The ending left pending, before anything else is sent (the client's settle hook)."""
        history = self.api.client.history
        before = len(history)
        self.end_chats(self.take_ending())
        # nothing else is sent meanwhile: what was added is the ending's
        del history[before:]

    def clean_up(self) -> None:
        """End every chat this harness created; safe to call after a failure, and past a
        deadline (clean-up gets a grace window of its own)."""
        self.api.client.settle()
        while self.created:
            chats, self.created[:] = list(reversed(self.created)), []
            self.end_chats(chats)

    def end_chats(self, chats: list[str]) -> None:
        """End ``chats`` at once (each ends on its own: the order cannot matter), in clean-up's
        grace window."""
        with self.api.client.grace():
            self.together(*(partial(self.end_chat, chat_id) for chat_id in chats))

    def kept_chat(self) -> str:
        """A chat taken by the transferring agent that outlives the example: for calls that only
        read it, whose examples need not each open one. ``end_kept`` ends it."""
        chat_id = self.open_chat()
        self.created.remove(chat_id)
        self.kept.append(chat_id)
        return chat_id

    def end_kept(self) -> None:
        kept, self.kept[:] = list(self.kept), []
        self.end_chats(kept)

    def receiver_takes(self, chat_id: str, ringing: int | None = None) -> bool:
        """Whether the receiving agent can take this chat now (ending strays it is offered);
        ``ringing``: the ring count just read, if it was."""
        for _ in range(STRAY_LIMIT):
            count = self.api.ringing_count(self.receiving) if ringing is None else ringing
            ringing = None
            if count == 0:
                return self.interference_took(chat_id)
            taken = self.api.take_chat(self.receiving, setup=False)
            if taken is None:
                # something rang, yet nothing could be taken: another session took it first?
                if self.holds(self.receiving, chat_id):
                    self.note_interference(f"another session of the receiving agent took chat {chat_id}")
                    return True
                return False
            if taken == chat_id:
                return True
            if taken not in self.ours:
                self.foreign(taken, "receiving")
                if self.holds(self.receiving, chat_id):
                    return True
                continue
            self.end_chat(taken)
        return False

    def interference_took(self, chat_id: str) -> bool:
        """Nothing rang for the receiving agent: had another client's session of the same agent
        taken our chat already? Only asked once another client was seen."""
        return bool(self.interference) and self.holds(self.receiving, chat_id)

    def outcome(self, chat_id: str, exchange: Exchange) -> Outcome:
        """Probe where the chat is after a transfer attempt (this takes it, if it can)."""
        first, ringing = self.together(
            partial(self.api.agent_chat, self.transferring, chat_id),
            partial(self.api.ringing_count, self.receiving),
        )
        holds = first.status == 200
        took = self.receiver_takes(chat_id, ringing)
        reader = self.receiving if took else self.transferring if holds else None

        def announced() -> tuple[int, ...]:
            if took:
                view = self.api.agent_chat(self.receiving, chat_id)
            elif holds:
                view = first
            else:
                view = self.api.visitor_chat(chat_id)
            return system_messages(self.all_events(view, reader)) if view.status == 200 else ()

        messages, state = self.together(announced, partial(self.visitor_state, chat_id))
        return Outcome(exchange.status, holds, took, messages, state or "")

    # ------------------------------------------------------------------ transfers
    def transfer(
        self,
        chat_id: str,
        body: TransferBody,
        encoding: str = "json",
        *,
        agent: AgentContext | None = None,
        bearer: str | None = None,
        accept: str = "json",
    ) -> Exchange:
        """Send a symbolic TransferBody (strategies) in ``encoding`` (json, xml, xml:<layout>)."""
        raw, content_type = render(body, self.ids, encoding, self.xml_form or "element")
        return self.api.transfer(
            agent or self.transferring,
            chat_id,
            raw,
            content_type,
            f"transfer ({encoding}): {body.describe()}",
            bearer=bearer,
            accept=accept,
        )

    def transfer_raw(
        self, chat_id: str, raw: bytes, content_type: str, title: str, accept: str = "json"
    ) -> Exchange:
        return self.api.transfer(self.transferring, chat_id, raw, content_type, title, accept=accept)

    def largest_accepted(
        self, probe: Callable[[int], Exchange], hint: int, high: int
    ) -> tuple[int | None, Exchange | None]:
        """The largest size in [1, ``high``] whose ``probe`` answers 200, and the refusal one
        size above it, for a limit the docs leave open (discover mode).

        ``hint`` (the decision's default) and one above it are tried first, so a target that
        keeps the default costs two probes; otherwise a doubling search then a bisection,
        about 2·log2(high) probes. Each probe gets fresh chats (clean_up after each), since an
        accepted transfer moves its chat. None when even size 1 is refused or nothing up to
        ``high`` is.
        """
        answers: dict[int, Exchange] = {}

        def accepted(size: int) -> bool:
            if size not in answers:
                try:
                    answers[size] = probe(size)
                finally:
                    self.clean_up()
            return answers[size].status == 200

        low, above = 0, high + 1  # low: largest known accepted; above: smallest known refused
        if not accepted(hint):
            above = hint
        elif accepted(hint + 1):
            low = hint + 1
        else:
            low, above = hint, hint + 1
        while above > high and low < high:
            step = min(max(low * 2, 1), high)
            if accepted(step):
                low = step
            else:
                above = step
        while above - low > 1:
            middle = (low + above) // 2
            if accepted(middle):
                low = middle
            else:
                above = middle
        if low == 0 or above > high:
            return None, None
        return low, answers[above]

    def try_transfer(self, body: TransferBody, encoding: str = "json") -> tuple[Outcome, Exchange]:
        """Open a chat, transfer it with ``body``, and probe the outcome."""
        chat_id = self.open_chat()
        exchange = self.transfer(chat_id, body, encoding)
        return self.outcome(chat_id, exchange), exchange

    def check_same_outcome(
        self,
        rule_id: str,
        reference: tuple[TransferBody, str],
        variant: tuple[TransferBody, str],
        reference_label: str = "",
        variant_label: str = "",
    ) -> None:
        """Judge a metamorphic rule: two (body, encoding) pairs, each sent on a fresh chat, leave
        the same outcome; the reference pair's outcome is the expected one."""
        expected, expected_exchange = self.try_transfer(*reference)
        actual, actual_exchange = self.try_transfer(*variant)
        check(
            expected == actual,
            rule_id,
            f"{reference_label}{expected.describe()}",
            f"{variant_label}{actual.describe()}",
            # the variant's request is the one that shows the difference: it leads
            actual_exchange,
            expected_exchange,
        )

    def all_events(self, first: Exchange, agent: AgentContext | None) -> list[dict[str, Any]]:
        """Every event of a chat, from its resource or events read ``first``, the following
        pages too: a target may page events, and a text or a system message on a later page
        is there all the same. ``agent`` None reads as the visitor."""
        body = first.json()
        events = events_of(body)
        seen = {str(event.get("@id")) for event in events}
        for _ in range(MAX_EVENT_PAGES):
            href = next_link(body)
            if not href:
                break
            check_origin(self.profile, href, "an events next link")
            page = self.api.events_page(href, agent)
            if page.status != 200:
                break
            body = page.json()
            fresh = [event for event in events_of(body) if str(event.get("@id")) not in seen]
            if not fresh:
                break
            seen.update(str(event.get("@id")) for event in fresh)
            events.extend(fresh)
        return events

    def visitor_state(self, chat_id: str) -> str | None:
        """The chat's state as the visitor reads it, None when the visitor cannot read it."""
        visitor = self.api.visitor_chat(chat_id)
        if visitor.status != 200:
            return None
        try:
            return str(visitor.json()["chat"]["info"]["state"])
        except (ValueError, KeyError, TypeError):
            return None

    def still_with_first_agent(self, chat_id: str) -> tuple[bool, str]:
        """Whether nothing moved: the first agent holds the chat, unannounced, visitor chatting."""

        def announced() -> tuple[Exchange, tuple[int, ...]]:
            first = self.api.agent_chat(self.transferring, chat_id)
            messages = (
                system_messages(self.all_events(first, self.transferring)) if first.status == 200 else ()
            )
            return first, messages

        (first, messages), ringing, state = self.together(
            announced,
            partial(self.api.ringing_count, self.receiving),
            partial(self.visitor_state, chat_id),
        )
        if first.status != 200:
            return False, f"the transferring agent can no longer read the chat ({first.status})"
        if messages:
            return False, f"the chat announces a transfer (system messages {list(messages)})"
        if ringing and self.receiver_takes(chat_id, ringing):
            return False, "the receiving agent could take the chat"
        if state != "chatting":
            return False, f"the visitor's chat is {state!r}, not chatting"
        return True, "the chat stays with the transferring agent, unannounced, visitor chatting"

    def check_unchanged(self, rule_id: str, chat_id: str, exchange: Exchange) -> None:
        """Judge ``rule_id``: the refused transfer left the chat where it was."""
        unchanged, how = self.still_with_first_agent(chat_id)
        check(unchanged, rule_id, "nothing changes", how, exchange)

    def visitor_strings(self, chat_id: str) -> list[str]:
        """Every string the visitor can read about the chat, in both formats."""
        found: list[str] = []
        reads = [
            (partial(read, chat_id, accept), operation)
            for accept in ("json", "xml")
            for read, operation in (
                (self.api.visitor_chat, "getVisitorChat"),
                (self.api.visitor_events, "getVisitorChatEvents"),
            )
        ]
        answers = self.together(*(read for read, _ in reads))
        for exchange, (_, operation) in zip(answers, reads, strict=True):
            found.append(exchange.content.decode("utf-8", "replace"))
            if exchange.status == 200:
                with contextlib.suppress(Exception):
                    found.extend(all_strings(decode(exchange, operation)))
        # and every later page of events the visitor can follow from its JSON read of the chat
        chat = answers[0]
        if chat.status == 200:
            with contextlib.suppress(Exception):
                found.extend(all_strings(self.all_events(chat, None)))
        return found
