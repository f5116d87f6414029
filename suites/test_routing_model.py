"""routing-model: generated sequences of documented calls, the model's invariants after every step.

Hypothesis draws the sequence (`RuleBasedStateMachine`) and shrinks a failing one to the
shortest that still fails; the failure lists the numbered steps, each with its curl. The model
(`transfer_conformance.model.routing`) says what a conformant target must do; calls whose
answer the pages leave open are never sent. Some steps send two calls at once and check the
answers are linearizable against the model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from transfer_conformance.http.client import Exchange
from transfer_conformance.model import linearizable
from transfer_conformance.model.routing import (
    AWAY,
    OCCUPIED,
    ONLINE,
    ROLES,
    TRANSFERRING,
    Layout,
    Order,
    Routing,
    describe_state,
    other,
    replay,
    step,
)
from transfer_conformance.target_api.checks import RuleViolation, is_error, message
from transfer_conformance.target_api.harness import as_list, decode, system_messages
from transfer_contract.domain import PLAIN_ALPHABET
from transfer_contract.transfer_body import TransferBody

# Its lives go on until their budget of time: lanes start it first (run/lanes.py heaviest_first).
pytestmark = [pytest.mark.rule("routing-model"), pytest.mark.long]

MAX_LIVE_CHATS = 3
# Seconds Hypothesis may spend shrinking a violating life (each try replays a life against the
# target; an unbounded shrink of a long life took two minutes on the reference).
SHRINK_BUDGET_S = 20.0
# The profile's agent references by role, as TransferBody names them.
AGENT_REF = {"transferring": "self", "receiving": "receiving"}
STATES = (ONLINE, AWAY, OCCUPIED)
# Draws of a fixed shape (see RoutingMachine): an index into whatever list applies then.
PICK = st.integers(0, 255)
KINDS = st.sampled_from(("agent", "skill", "both", "skill", "agent", "neither"))
ENCODINGS = st.sampled_from(("json", "xml"))
# The draws of a transfer step (by agent, skill, both or neither) and of a hand-over (to the
# other agent: by agent, skill or both)
TRANSFER = {
    "pick": PICK,
    "kind": KINDS,
    "skill_pick": PICK,
    "with_text": st.booleans(),
    "encoding": ENCODINGS,
}
HAND_OVER = {**TRANSFER, "kind": st.sampled_from(("agent", "skill", "both"))}
# Seconds a chat may ring before the model takes it (Accept Chat, note 2: 20 s sets Away).
RING_PATIENCE_S = 10.0
# What a check gives back once it has read: the judgment of those reads, made in a fixed order.
Judge = Callable[[], None]


def stopping(target: Any) -> bool:
    """Whether the test's deadline is near: no new life starts, and a life under way does
    nothing more (its chats still end and availability is restored at tear-down). A nightly
    budget of long lives meets the test's deadline before Hypothesis' example count."""
    margin = max(15.0, 3 * target.api.client.timeout_s)
    return target.api.client.remaining() < margin


def describe_call(kind: str, subject: Any) -> str:
    if kind == "transfer":
        return subject.describe()
    if kind == "availability":
        return f"the {subject[0]} agent sets {subject[1]}"
    return f"the visitor ends {subject}"


def choose(items: Any, pick: int) -> Any:
    """The ``pick``-th of ``items`` (modulo their number), or None when there are none."""
    items = list(items)
    return items[pick % len(items)] if items else None


def is_subsequence(wanted: list[int], seen: list[int]) -> bool:
    found = iter(seen)
    return all(any(item == got for got in found) for item in wanted)


class Lives:
    """The violations the generated lives showed, and the shrinking budget after the first."""

    def __init__(self, shrink_budget_s: float = SHRINK_BUDGET_S) -> None:
        self.violations: list[RuleViolation] = []
        # what broke a life (a call the model needs, refused): not a violation of this rule
        self.broken: list[str] = []
        self.first_at: float | None = None
        self.shrink_budget_s = shrink_budget_s

    def saw(self, violation: RuleViolation) -> None:
        self.violations.append(violation)
        if self.first_at is None:
            self.first_at = time.monotonic()

    def out_of_budget(self) -> bool:
        return self.first_at is not None and time.monotonic() - self.first_at > self.shrink_budget_s

    def shortest(self) -> RuleViolation:
        # the life with the fewest numbered steps (its message lists one line a step and curl)
        return min(self.violations, key=lambda error: str(error).count("\n"))


class RoutingMachine(RuleBasedStateMachine):
    """One generated life of a few chats between the transferring and the receiving agent."""

    def __init__(self, target: Any, rule_id: str, lives: Lives) -> None:
        super().__init__()
        # Past the shrinking budget, or near the test's deadline, a life sends nothing: its steps
        # still draw what they would (rejecting it instead would make Hypothesis see the same
        # draws end differently), and the shortest violating life seen so far is reported.
        self.idle = lives.out_of_budget()
        self.target = target
        self.rule_id = rule_id
        self.lives = lives
        self.api = target.api
        self.api.client.forget_history()
        self.model = Routing(Layout.of(tuple(target.ids.skills)))
        self.chat_ids: dict[str, str] = {}
        self.steps: list[tuple[str, tuple[Exchange, ...]]] = []
        # transfer system messages each held chat showed at its last read, and chats whose
        # texts the visitor must be checked against
        self.announced: dict[str, int] = {}
        self.hops_seen: dict[str, int] = {}
        self.texts_to_check: set[str] = set()
        self.rang_since: dict[str, float] = {}
        self.acted = True
        self.counter = 0
        if not self.stopping():
            restored = target.restore_availability()
            self.note("set-up", f"agents Online (restored: {restored or 'none'})")

    # ------------------------------------------------------------------ reporting
    def note(self, what: str, detail: str, *exchanges: Exchange) -> None:
        self.steps.append((f"{what}: {detail}", exchanges))

    def fail(self, expected: str, actual: str, *exchanges: Exchange) -> None:
        """A broken invariant: the rule's message, the model's state, and the numbered steps."""
        lines = [
            message(self.rule_id, expected, actual, exchanges),
            "",
            f"Model: {describe_state(self.model)}",
            "Steps:",
        ]
        for number, (what, step_exchanges) in enumerate(self.steps, 1):
            lines.append(f"{number:3}. {what}")
            lines.extend(f"       {e.status} {e.curl}" for e in step_exchanges)
        error = RuleViolation(self.rule_id, "\n".join(lines), exchanges)
        error.exchanges = list(self.api.client.history)  # type: ignore[attr-defined]
        error.whole_life = True  # type: ignore[attr-defined]
        self.lives.saw(error)
        raise error

    def broken(self, what: str) -> None:
        """The target refused a call the model needs (not one this rule judges): broken."""
        self.lives.broken.append(what)
        pytest.fail(f"precondition: {what}", pytrace=False)

    def next_text(self) -> str:
        # Letters, digits and plain punctuation only: the documented domain of the text, which
        # every conformant target takes (a wider text is a decision; see decision-text-characters).
        self.counter += 1
        text = f"Routing note {self.counter}, please check the order history."
        assert set(text) <= set(PLAIN_ALPHABET)
        return text

    # Every rule draws the same things whatever the state, and a rule that does not apply now
    # does nothing: a target decides some of the state (which of two ringing chats an agent
    # gets, which of two transfers sent at once wins), and Hypothesis needs a life's draws to
    # depend on the draws alone, or it cannot replay or shrink it.
    def stopping(self) -> bool:
        return self.idle or stopping(self.target)

    def may_open(self) -> bool:
        return (
            len(self.model.live_chats()) < MAX_LIVE_CHATS
            and self.model.state_of(TRANSFERRING) == ONLINE
            and not self.stopping()
        )

    # ------------------------------------------------------------------ visitor steps
    @rule()
    def visitor_requests_a_chat(self) -> None:
        if not self.may_open():
            return
        chat_id = self.target.ring_new_chat()
        key = f"chat{len(self.chat_ids) + 1}"
        self.chat_ids[key] = chat_id
        self.model = self.model.new_chat(key)
        self.acted = True
        self.note(
            "the visitor requests a chat",
            f"{key} = {chat_id}, rings for the transferring agent",
            self.api.client.history[-1],
        )

    @rule()
    def a_new_chat_is_taken(self) -> None:
        if self.may_open():
            self.visitor_requests_a_chat()
            self.take(TRANSFERRING)

    @rule(pick=PICK, agent_writes=st.booleans())
    def someone_writes(self, pick: int, agent_writes: bool) -> None:
        """The visitor, or the agent who holds the chat, writes a line (which moves nothing)."""
        key = choose(self.model.live_chats(), pick)
        if key is None or self.stopping():
            return
        self.acted = True
        holder = self.model.chat(key).holder
        if holder is not None and agent_writes:
            exchange = self.api.send_line(
                self.target.agents[holder], self.chat_ids[key], "One moment, please."
            )
            self.note(f"the {holder} agent writes a line", key, exchange)
            if exchange.status >= 300:
                self.fail(
                    f"the {holder} agent, who holds {key}, can write in it", f"{exchange.status}", exchange
                )
            return
        exchange = self.api.visitor_line(self.chat_ids[key], "Hello, is anyone there?")
        self.note("the visitor writes a line", key, exchange)
        if exchange.status >= 300:
            self.broken(f"the visitor could not write in {key} ({exchange.status})")

    @rule(pick=PICK)
    def visitor_ends(self, pick: int) -> None:
        key = choose(self.model.live_chats(), pick)
        if key is None or self.stopping():
            return
        self.acted = True
        exchange = self.api.visitor_end(self.chat_ids[key])
        self.note("the visitor ends the chat", key, exchange)
        if exchange.status >= 300:
            self.broken(f"the visitor could not end {key} ({exchange.status})")
        self.model = self.model.ended(key)

    # ------------------------------------------------------------------ agent steps
    @rule(pick=PICK)
    def agent_takes(self, pick: int) -> None:
        role = choose([role for role in ROLES if self.model.ringing_for(role)], pick)
        if role is not None and not self.stopping():
            self.take(role)

    def take(self, role: str) -> str:
        """The ``role`` agent takes what rings for it: one of the chats the model has ringing
        for it (the pages give no order among them)."""
        self.acted = True
        ringing = self.model.ringing_for(role)
        taken = self.api.take_chat(self.target.agents[role], setup=False)
        exchange = self.api.client.history[-1]
        keys = {chat_id: key for key, chat_id in self.chat_ids.items()}
        self.note(f"the {role} agent takes what rings", f"expects one of {list(ringing)}", exchange)
        if taken is None:
            if any(self.target.holds(self.target.agents[role], self.chat_ids[k]) for k in ringing):
                self.target.note_interference(f"another session of the {role} agent took one of our chats")
                self.broken(f"another client took a chat ringing for the {role} agent")
            elsewhere = self.taken_elsewhere(ringing)
            if elsewhere:
                # on a shared staging another agent with the skill may take a chat sent to it
                self.target.note_interference(elsewhere)
                self.broken(elsewhere)
            self.fail(f"the {role} agent takes one of {list(ringing)}", "no chat was taken", exchange)
        key = keys.get(str(taken))
        if key is None:
            self.target.foreign(str(taken), role)
            self.broken(f"the {role} agent was given a chat this run did not open ({taken})")
        if key not in ringing:
            self.fail(
                f"the {role} agent takes one of {list(ringing)}, the chats ringing for it",
                f"it took {key}, which rings for {self.model.chat(key).rings_for or 'nobody'}",
                exchange,
            )
        self.model = self.model.taken(key, role)
        self.rang_since.pop(key, None)
        if any(hop.text for hop in self.model.chat(key).hops):
            self.texts_to_check.add(key)
        return key

    def taken_elsewhere(self, keys: tuple[str, ...]) -> str:
        """Which of ``keys`` an agent outside the profile holds, as the visitor reads it ('' if
        none): a skill's other agents on a shared staging take what is routed to it."""
        ours = {str(self.target.ids.agents["receiving"]), str(self.target.ids.agents["self"])}
        for key in keys:
            try:
                holder = self.api.visitor_chat(self.chat_ids[key]).json()["chat"]["info"].get("agentId")
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            if holder not in (None, "") and str(holder) not in ours:
                return f"{key} was taken by agent {holder}, who is not one of the profile's agents"
        return ""

    def answer_long_rings(self) -> None:
        """Take what has rung for RING_PATIENCE_S: Accept Chat's note 2 lets a target set an
        agent Away whose chat rings unanswered for 20 s, which would be the model's doing, not
        the target's. No draw: the life's draws stay the same."""
        now = time.monotonic()
        for key in self.model.live_chats():
            rings_for = self.model.chat(key).rings_for
            if rings_for is None:
                self.rang_since.pop(key, None)
                continue
            since = self.rang_since.setdefault(key, now)
            if now - since > RING_PATIENCE_S and self.model.state_of(rings_for) == ONLINE:
                self.take(rings_for)

    @rule(role=st.sampled_from(ROLES), state=st.sampled_from((ONLINE, *STATES)))
    def agent_sets_availability(self, role: str, state: str) -> None:
        if self.model.ringing_for(role) or self.stopping():
            # What rings for an agent who leaves Online is not on the pages: not asked.
            return
        self.acted = True
        agent = self.target.agents[role]
        exchange = self.api.set_availability(agent, state, setup=False)
        self.note(f"the {role} agent sets {state}", "", exchange)
        if exchange.status != 200:
            self.broken(f"the {role} agent could not set {state} ({exchange.status})")
        self.model = self.model.with_availability(role, state)
        # one state, read twice at once: the availability and the agent's information
        read, info = self.target.together(
            partial(self.api.get_availability, agent), partial(self.api.agent_info, agent)
        )
        try:
            now = read.json()["availability"]["chat"]
        except (ValueError, KeyError, TypeError):
            now = None
        if now != state:
            self.fail(
                f"the {role} agent's availability reads {state}, as just set", f"{now!r}", read, exchange
            )
        # Retrieve Agent Information shows the same availability
        try:
            shown = info.json()["info"]["availability"]["chat"]
        except (ValueError, KeyError, TypeError):
            shown = None
        if info.status != 200 or shown != state:
            self.fail(
                f"the {role} agent's information shows availability {state}", f"{info.status} {shown!r}", info
            )

    def check_skills(self, key: str, role: str) -> Judge:
        """The skills list of a chat is what the availability set now allows (every time)."""
        exchange = self.api.available_skills(self.target.agents[role], self.chat_ids[key])
        return partial(self.judge_skills, key, role, exchange)

    def judge_skills(self, key: str, role: str, exchange: Exchange) -> None:
        if exchange.status != 200:
            self.fail(f"the skills list of {key} for its holder", f"{exchange.status}", exchange)
        body = decode(exchange, "getAvailableSkills")
        listed = {str(skill.get("id")) for skill in as_list((body.get("transfer") or {}).get("skill"))}
        ids = self.target.ids.skills
        for skill, must in self.model.listed(role).items():
            if must is None or skill not in ids:
                continue
            if (ids[skill] in listed) != must:
                verb = "listed" if must else "not listed"
                self.fail(
                    f"skill {skill} ({ids[skill]}) {verb}: availability is "
                    + ", ".join(f"{r} {s}" for r, s in self.model.availability)
                    + f", and the {role} agent holds the chat",
                    f"listed: {sorted(listed)}",
                    exchange,
                )

    # ------------------------------------------------------------------ transfers
    def held_pairs(self) -> list[tuple[str, str]]:
        return [(key, role) for role in ROLES for key in self.model.held_by(role)]

    def candidates(self, find: Any) -> list[Any]:
        """What ``find`` lists now; if nothing, a new chat taken first (where one may be opened),
        so that a step meant to move a chat moves one rather than doing nothing."""
        found = find()
        if not found and self.may_open():
            self.a_new_chat_is_taken()
            found = find()
        return found

    def send(self, order: Order) -> Exchange:
        body = TransferBody(
            agent=AGENT_REF[order.agent] if order.agent else None, skill=order.skill, text=order.text or None
        )
        return self.target.transfer(
            self.chat_ids[order.chat], body, order.encoding, agent=self.target.agents[order.sender]
        )

    def text_if(self, wanted: bool) -> str:
        return self.next_text() if wanted else ""

    @rule(**TRANSFER)
    def transfer(self, pick: int, kind: str, skill_pick: int, with_text: bool, encoding: str) -> None:
        """Any agent transfers any live chat: mostly its holder; sometimes a former holder, or
        the agent it only rings for (who must be refused)."""

        def pairs() -> list[tuple[str, str]]:
            anyone = [(key, sender) for key in self.model.live_chats() for sender in ROLES]
            return anyone + self.held_pairs() * 3

        chosen = choose(self.candidates(pairs), pick)
        if chosen is None:
            return
        key, sender = chosen
        skill = choose([s for s in self.model.layout.keys if s in self.target.ids.skills], skill_pick)
        order = Order(
            sender,
            key,
            agent=other(sender) if kind in ("agent", "both") else None,
            skill=skill if kind in ("skill", "both") else None,
            text=self.text_if(with_text),
            encoding=encoding,
        )
        self.send_and_judge(order)

    def send_and_judge(self, order: Order) -> None:
        expectation = self.model.expect(order)
        if expectation.accepted is None or self.stopping():
            return  # the pages leave this one open: not sent
        self.acted = True
        exchange = self.send(order)
        verdict = "accepted" if expectation.accepted else "refused"
        self.note(order.describe(), f"must be {verdict} ({expectation.why})", exchange)
        if expectation.accepted:
            if exchange.status != 200:
                self.fail(f"200: {expectation.why}", f"{exchange.status}", exchange)
            self.model = self.model.transferred(order, expectation)
            if order.text:
                self.texts_to_check.add(order.chat)
        elif not is_error(exchange.status):
            self.fail(f"an error status: {expectation.why}", f"{exchange.status}", exchange)

    @rule(**HAND_OVER)
    def hand_over(self, pick: int, kind: str, skill_pick: int, with_text: bool, encoding: str) -> None:
        """The holder passes a chat to the other agent, who takes it: the hops of a chat's life
        (A to B, back to A, and on), by agent, skill or both, with or without text."""
        chosen = choose(self.candidates(self.race_candidates), pick)
        if chosen is None:
            return
        key, sender = chosen
        receiver = other(sender)
        skills = [s for s in self.model.layout.skills_of(receiver) if s in self.target.ids.skills]
        if kind == "skill" and not skills:
            kind = "agent"
        skill = choose(skills if kind == "skill" else list(self.model.layout.keys), skill_pick)
        order = Order(
            sender,
            key,
            agent=receiver if kind != "skill" else None,
            skill=skill if kind != "agent" else None,
            text=self.text_if(with_text),
            encoding=encoding,
        )
        self.send_and_judge(order)
        if self.model.ringing_for(receiver):
            self.take(receiver)

    def can_go_away(self) -> list[tuple[str, str]]:
        return [
            (key, role)
            for key, role in self.held_pairs()
            if self.model.layout.skills_of(other(role)) and not self.model.ringing_for(other(role))
        ]

    @rule(pick=PICK, skill_pick=PICK, encoding=ENCODINGS)
    def transfer_to_a_skill_whose_agent_went_away(self, pick: int, skill_pick: int, encoding: str) -> None:
        """Availability changed after login: the other agent goes Away, and its skill then takes
        no transfer (an error, and nothing changes)."""
        chosen = choose(self.candidates(self.can_go_away), pick)
        if chosen is None:
            return
        key, sender = chosen
        receiver = other(sender)
        if self.model.state_of(receiver) != AWAY:
            self.agent_sets_availability(receiver, AWAY)
        skill = choose(self.model.layout.skills_of(receiver), skill_pick)
        self.send_and_judge(Order(sender, key, skill=skill, encoding=encoding))

    # Hypothesis picks among the rules evenly; hops are what this rule is about, so the
    # hand-over is offered three times and the general transfer twice.
    @rule(**HAND_OVER)
    def hand_over_again(self, pick: int, kind: str, skill_pick: int, with_text: bool, encoding: str) -> None:
        self.hand_over(pick, kind, skill_pick, with_text, encoding)

    @rule(**HAND_OVER)
    def hand_over_once_more(
        self, pick: int, kind: str, skill_pick: int, with_text: bool, encoding: str
    ) -> None:
        self.hand_over(pick, kind, skill_pick, with_text, encoding)

    @rule(**TRANSFER)
    def transfer_again(self, pick: int, kind: str, skill_pick: int, with_text: bool, encoding: str) -> None:
        self.transfer(pick, kind, skill_pick, with_text, encoding)

    # ------------------------------------------------------------------ calls at once
    def at_once(self, calls: list[tuple[str, Any]]) -> None:
        """Send ``calls`` at once; check the history is linearizable and adopt its outcome."""
        if self.stopping():
            return
        self.acted = True
        start = threading.Barrier(len(calls))
        results: list[tuple[float, float, Exchange] | None] = [None] * len(calls)

        def run(index: int, kind: str, subject: Any) -> None:
            start.wait()
            began = time.monotonic()
            answer = self.call(kind, subject)
            results[index] = (began, time.monotonic(), answer)

        threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        exchanges = tuple(result[2] for result in results if result is not None)
        history = []
        for call, result in zip(calls, results, strict=True):
            if result is None:
                self.broken("a call sent at once never returned")
            began, ended, answer = result
            # no status (the call timed out): it may or may not have taken effect
            history.append(linearizable.Call(began, ended if answer.status else None, call, answer.status))
        described = [describe_call(kind, subject) for kind, subject in calls]
        self.note("at once", " | ".join(described), *exchanges)
        verdict = linearizable.check(history, self.model, step)
        if not verdict.linearizable:
            self.fail(
                "answers some order of these calls explains (linearizable against the model)",
                "statuses "
                + ", ".join(f"{d}: {e.status}" for d, e in zip(described, exchanges, strict=True)),
                *exchanges,
            )
        self.model = replay(
            self.model, [c.request for c in history], [c.answer for c in history], verdict.order
        )
        for kind, subject in calls:
            if kind == "transfer" and subject.text:
                self.texts_to_check.add(subject.chat)

    def call(self, kind: str, subject: Any) -> Exchange:
        """One call of a concurrent step: a transfer, the visitor's end, or an availability."""
        if kind == "end":
            return self.api.visitor_end(self.chat_ids[subject])
        if kind == "availability":
            role, state = subject
            return self.api.set_availability(self.target.agents[role], state, setup=False)
        return self.send(subject)

    def race_candidates(self) -> list[tuple[str, str]]:
        return [(key, role) for key, role in self.held_pairs() if self.model.state_of(other(role)) == ONLINE]

    @rule(
        pick=PICK,
        kind=st.sampled_from(("one chat twice", "transfer and end", "two chats", "transfer and away")),
    )
    def calls_at_once(self, pick: int, kind: str) -> None:
        """Two transfers of one chat, transfers of two chats of one agent, a transfer while the
        visitor ends the chat, or a transfer while the receiver goes Away, sent at once."""
        chosen = choose(self.candidates(self.race_candidates), pick)
        if chosen is None:
            return
        key, sender = chosen
        receiver = other(sender)
        held = self.model.held_by(sender)
        first = Order(sender, key, agent=receiver, text=self.next_text())
        if kind == "two chats" and len(held) >= 2:
            another = next(chat for chat in held if chat != key)
            self.at_once([("transfer", first), ("transfer", Order(sender, another, agent=receiver))])
        elif kind == "transfer and end":
            self.at_once([("transfer", first), ("end", key)])
        elif kind == "transfer and away" and not self.model.ringing_for(receiver):
            self.transfer_while_the_receiver_goes_away(key, sender)
        else:
            skills = [s for s in self.model.layout.skills_of(receiver) if s in self.target.ids.skills]
            second = (
                Order(sender, key, skill=skills[0], encoding="xml")
                if skills
                else Order(sender, key, agent=receiver)
            )
            self.at_once([("transfer", first), ("transfer", second)])

    def transfer_while_the_receiver_goes_away(self, key: str, sender: str) -> None:
        """A transfer to the other agent's skill (its id, if it has no skill of the profile's)
        while that agent goes Away: either order explains a conformant answer. Where the transfer
        won, the chat then rings for an agent who is Away, which the pages leave open: the
        visitor ends it, and the model judges it no further."""
        receiver = other(sender)
        skills = [s for s in self.model.layout.skills_of(receiver) if s in self.target.ids.skills]
        order = Order(sender, key, skill=skills[0]) if skills else Order(sender, key, agent=receiver)
        self.at_once([("transfer", order), ("availability", (receiver, AWAY))])
        if self.model.chat(key).rings_for == receiver and self.model.state_of(receiver) != ONLINE:
            exchange = self.api.visitor_end(self.chat_ids[key])
            self.note("the visitor ends the chat", f"{key}, ringing for an agent now Away", exchange)
            self.model = self.model.ended(key)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def holders_hops_texts_and_rings(self) -> None:
        if self.stopping():
            return
        self.answer_long_rings()
        if not self.acted:
            return  # the step did nothing: nothing to look at again
        self.acted = False
        held = self.held_pairs()
        checks: list[Callable[[], Judge]] = [partial(self.check_held, key, holder) for key, holder in held]
        checks += [
            partial(self.check_read_together, role) for role in ROLES if len(self.model.held_by(role)) >= 2
        ]
        if held:
            # one list a step, turn by turn: what availability allows now, every time it is asked
            checks.append(partial(self.check_skills, *held[len(self.steps) % len(held)]))
        checks += [partial(self.check_visitor_never_sees_texts, key) for key in sorted(self.texts_to_check)]
        self.texts_to_check.clear()
        checks += [partial(self.check_ringing, role) for role in ROLES]
        # Every read of the step at once (nothing changes the state between them, so their order
        # cannot change what they find), then judged one by one in this fixed order.
        for judge in self.target.together(*checks):
            judge()

    def check_ringing(self, role: str) -> Judge:
        read = self.api.incoming_requests(self.target.agents[role])

        def judge() -> None:
            expected, count = len(self.model.ringing_for(role)), self.api.ringing_of(read)
            if count < expected:
                self.fail(
                    f"at least {expected} chat(s) ringing for the {role} agent: "
                    f"{list(self.model.ringing_for(role))}",
                    f"ringingCount {count}",
                    read,
                )

        return judge

    def check_held(self, key: str, holder: str) -> Judge:
        """Reads ``key`` as its holder; the judge: readable, its hops announced, its text there."""
        agent = self.target.agents[holder]
        read = self.api.agent_chat(agent, self.chat_ids[key])
        events = self.target.all_events(read, agent) if read.status == 200 else []
        return partial(self.judge_held, key, holder, read, events)

    def judge_held(self, key: str, holder: str, read: Exchange, events: list[dict[str, Any]]) -> None:
        chat = self.model.chat(key)
        if read.status != 200:
            self.fail(f"the {holder} agent, who holds {key}, can read it", f"{read.status}", read)
        announced = list(system_messages(events))
        wanted = [hop.message for hop in chat.hops]
        if not is_subsequence(wanted, announced):
            self.fail(
                f"{key}'s {len(wanted)} transfer(s) announced, in order: system messages {wanted}",
                f"system messages {announced}",
                read,
            )
        before, hops_before = self.announced.get(key), self.hops_seen.get(key)
        if before is not None and hops_before == len(chat.hops) and len(announced) != before:
            self.fail(
                f"{key} announces no transfer it did not make ({before} announcement(s) at its last read)",
                f"{len(announced)}: {announced}",
                read,
            )
        self.announced[key], self.hops_seen[key] = len(announced), len(chat.hops)
        last = chat.hops[-1] if chat.hops else None
        if last is not None and last.text and last.receiver == holder:
            texts = [str(event.get("text", "")) for event in events]
            if last.text not in texts:
                self.fail(
                    f"the {holder} agent, whom hop {len(chat.hops)} brought {key} to, reads {last.text!r}",
                    "no event carries it",
                    read,
                )

    def check_read_together(self, holder: str) -> Judge:
        """Retrieve Data for Multiple Chats gives each chat the agent holds. Only their presence is
        judged: that read has no `next` link (its page says so), so a target that pages events
        gives later ones only to a client that asks again from the ids it kept."""
        keys = self.model.held_by(holder)
        read = self.api.agent_chats(self.target.agents[holder], [self.chat_ids[key] for key in keys])
        return partial(self.judge_read_together, holder, keys, read)

    def judge_read_together(self, holder: str, keys: tuple[str, ...], read: Exchange) -> None:
        if read.status != 200:
            self.fail(f"the {holder} agent reads its chats {list(keys)} in one call", f"{read.status}", read)
        try:
            chats = as_list(read.json()["chats"].get("chat"))
        except (ValueError, KeyError, TypeError, AttributeError):
            chats = []
        found = {
            str((chat.get("info") or {}).get("chatSessionKey")) for chat in chats if isinstance(chat, dict)
        }
        for key in keys:
            if self.chat_ids[key] not in found:
                self.fail(
                    f"{key} among the {holder} agent's chats read together", f"keys {sorted(found)}", read
                )

    def check_visitor_never_sees_texts(self, key: str) -> Judge:
        texts = [hop.text for hop in self.model.chat(key).hops if hop.text]
        if not texts:
            return lambda: None
        chat_id = self.chat_ids[key]
        seen_by_read = []
        for exchange in (self.api.visitor_chat(chat_id), self.api.visitor_events(chat_id)):
            seen = exchange.content.decode("utf-8", "replace")
            if exchange.status == 200 and exchange.content:
                events = self.target.all_events(exchange, None)
                seen += " ".join(str(event.get("text", "")) for event in events)
            seen_by_read.append((exchange, seen))
        return partial(self.judge_visitor_never_sees_texts, key, texts, seen_by_read)

    def judge_visitor_never_sees_texts(
        self, key: str, texts: list[str], seen_by_read: list[tuple[Exchange, str]]
    ) -> None:
        for exchange, seen in seen_by_read:
            for text in texts:
                if text in seen:
                    self.fail(
                        f"the visitor never reads a transfer text of {key}", f"it reads {text!r}", exchange
                    )

    def teardown(self) -> None:
        # Polite on any target: end every chat this life opened, restore availability.
        self.target.clean_up()
        for role in ROLES:
            if self.model.state_of(role) != ONLINE:
                self.api.set_availability(self.target.agents[role], ONLINE, setup=False)


def test_routing_holds_over_generated_lives(target, rule):
    """Sequences of visitor, agent and transfer calls, some at once, keep every routing invariant."""
    target.precondition("receiving" in target.agents, "the profile has a receiving agent")
    lives = Lives()
    try:
        run_state_machine_as_test(lambda: RoutingMachine(target, rule.id, lives), settings=settings())
    except (Exception, pytest.fail.Exception):
        # A target is state: replaying a failing life need not fail the same way (a fault that
        # bites after the server's Nth transfer bites sooner on replay; an agent takes another
        # of two ringing chats), and shrinking stops at its budget. A violation seen is reported
        # as the shortest life that showed it, rather than Hypothesis' complaint about replaying;
        # a life that broke, with what broke it.
        if not lives.violations and lives.broken:
            pytest.fail(f"precondition: {lives.broken[0]}", pytrace=False)
        if not lives.violations:
            raise
    if lives.violations:
        raise lives.shortest() from None
