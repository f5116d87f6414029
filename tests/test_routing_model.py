"""The routing model on its own: what it demands, what it leaves open, and concurrent histories
judged against it (the suite module drives it against targets)."""

from transfer_conformance.model import linearizable
from transfer_conformance.model.routing import (
    AWAY,
    OCCUPIED,
    RECEIVING,
    TRANSFERRING,
    Layout,
    Order,
    Routing,
    replay,
    step,
)

LAYOUT = Layout.of(("available", "second_available", "unavailable", "only_transferring", "unknown"))


def held_by_transferring() -> Routing:
    return Routing(LAYOUT).new_chat("chat1").taken("chat1", TRANSFERRING)


def test_a_hop_to_the_receiving_agent_and_back():
    state = held_by_transferring()
    there = Order(TRANSFERRING, "chat1", agent=RECEIVING, text="note")
    expectation = state.expect(there)
    assert expectation.accepted and expectation.receiver == RECEIVING and expectation.by == "agent"
    state = state.transferred(there, expectation)
    assert state.ringing_for(RECEIVING) == ("chat1",) and not state.held_by(TRANSFERRING)
    # the former holder may no longer transfer it, nor may the agent it only rings for
    assert state.expect(Order(TRANSFERRING, "chat1", agent=RECEIVING)).accepted is False
    assert state.expect(Order(RECEIVING, "chat1", agent=TRANSFERRING)).accepted is False
    state = state.taken("chat1", RECEIVING)
    back = Order(RECEIVING, "chat1", skill="only_transferring")
    expectation = state.expect(back)
    assert expectation.accepted and expectation.receiver == TRANSFERRING and expectation.by == "skill"
    state = state.transferred(back, expectation)
    assert [hop.message for hop in state.chat("chat1").hops] == [13, 15]


def test_refusals_the_pages_state():
    state = held_by_transferring()
    assert state.expect(Order(TRANSFERRING, "chat1")).accepted is False  # neither
    assert state.expect(Order(TRANSFERRING, "chat1", skill="unavailable")).accepted is False
    assert state.expect(Order(TRANSFERRING, "chat1", skill="unknown")).accepted is False
    # only the agent already in the chat serves this skill: not listed, so an error
    assert state.expect(Order(TRANSFERRING, "chat1", skill="only_transferring")).accepted is False
    away = state.with_availability(RECEIVING, AWAY)
    assert away.expect(Order(TRANSFERRING, "chat1", skill="available")).accepted is False
    assert away.listed(TRANSFERRING)["available"] is False


def test_what_the_pages_leave_open_is_never_demanded():
    state = held_by_transferring()
    assert state.expect(Order(TRANSFERRING, "chat1", agent=TRANSFERRING)).accepted is None  # to oneself
    assert (
        state.with_availability(RECEIVING, AWAY)
        .expect(Order(TRANSFERRING, "chat1", agent=RECEIVING))
        .accepted
        is None
    )
    occupied = state.with_availability(RECEIVING, OCCUPIED)
    assert occupied.expect(Order(TRANSFERRING, "chat1", skill="available")).accepted is None
    assert occupied.listed(TRANSFERRING)["available"] is None
    assert state.ended("chat1").expect(Order(TRANSFERRING, "chat1", agent=RECEIVING)).accepted is None


def test_the_agent_id_wins_over_the_skill():
    state = held_by_transferring()
    expectation = state.expect(Order(TRANSFERRING, "chat1", agent=RECEIVING, skill="unavailable"))
    assert expectation.accepted and expectation.by == "agent"


def concurrent(first: Order, second: Order, answers: tuple[int, int]) -> list[linearizable.Call]:
    # both sent at 0, both answered at 1: any order may explain them
    return [
        linearizable.Call(0.0, 1.0, ("transfer", first), answers[0]),
        linearizable.Call(0.0, 1.0, ("transfer", second), answers[1]),
    ]


def test_two_transfers_of_one_chat_have_one_winner():
    state = held_by_transferring()
    first = Order(TRANSFERRING, "chat1", agent=RECEIVING)
    second = Order(TRANSFERRING, "chat1", skill="available")
    one_wins = concurrent(first, second, (404, 200))
    verdict = linearizable.check(one_wins, state, step)
    assert verdict.linearizable
    after = replay(state, [c.request for c in one_wins], [c.answer for c in one_wins], verdict.order)
    assert after.chat("chat1").hops[0].by == "skill"
    assert not linearizable.check(concurrent(first, second, (200, 200)), state, step).linearizable
    assert not linearizable.check(concurrent(first, second, (400, 404)), state, step).linearizable


def test_a_transfer_while_the_visitor_ends():
    state = held_by_transferring()
    transfer = ("transfer", Order(TRANSFERRING, "chat1", agent=RECEIVING))
    for answer in (200, 409):
        history = [
            linearizable.Call(0.0, 1.0, transfer, answer),
            linearizable.Call(0.0, 1.0, ("end", "chat1"), 201),
        ]
        assert linearizable.check(history, state, step).linearizable
    # the end was answered before the transfer was sent: the transfer cannot have moved a live chat
    history = [linearizable.Call(0.0, 1.0, ("end", "chat1"), 201), linearizable.Call(2.0, 3.0, transfer, 200)]
    assert linearizable.check(history, state, step).linearizable  # an ended chat's answer is open
    # but a transfer answered before the end began must have been judged on a live chat
    history = [linearizable.Call(0.0, 1.0, transfer, 400), linearizable.Call(2.0, 3.0, ("end", "chat1"), 201)]
    assert not linearizable.check(history, state, step).linearizable


def test_a_transfer_while_the_receiver_goes_away():
    state = held_by_transferring()
    transfer = ("transfer", Order(TRANSFERRING, "chat1", skill="available"))
    away = ("availability", (RECEIVING, AWAY))
    for answer in (200, 400):
        history = [linearizable.Call(0.0, 1.0, transfer, answer), linearizable.Call(0.0, 1.0, away, 200)]
        assert linearizable.check(history, state, step).linearizable
    # Away was set before the transfer was sent: the skill had no agent, so a 200 is impossible
    history = [linearizable.Call(0.0, 1.0, away, 200), linearizable.Call(2.0, 3.0, transfer, 200)]
    assert not linearizable.check(history, state, step).linearizable


def test_an_unanswered_call_may_or_may_not_have_taken_effect():
    state = held_by_transferring()
    transfer = ("transfer", Order(TRANSFERRING, "chat1", agent=RECEIVING))
    for second in (200, 404):
        history = [
            linearizable.Call(0.0, None, transfer),
            linearizable.Call(
                2.0, 3.0, ("transfer", Order(TRANSFERRING, "chat1", skill="available")), second
            ),
        ]
        assert linearizable.check(history, state, step).linearizable
