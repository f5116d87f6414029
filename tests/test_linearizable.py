"""The linearizability check on histories whose answer is known: a register (the textbook
cases), and a chat that one transfer may move (the case the suite's concurrent steps need)."""

import pytest

from transfer_conformance.model.linearizable import Call, check


def register(state, request, answer):
    """A register: ("write", v) answers "ok"; ("read",) answers the value. None: no answer."""
    if request[0] == "write":
        return [request[1]] if answer in ("ok", None) else []
    if answer is None:
        return [state]
    return [state] if answer == state else []


def test_sequential_history_is_linearizable():
    history = [Call(0, 1, ("write", 1), "ok"), Call(2, 3, ("read",), 1)]
    verdict = check(history, 0, register)
    assert verdict.linearizable and verdict.order == [0, 1]


def test_a_read_of_a_value_never_written_is_not():
    assert not check([Call(0, 1, ("write", 1), "ok"), Call(2, 3, ("read",), 2)], 0, register).linearizable


def test_a_stale_read_after_the_write_answered_is_not():
    history = [Call(0, 1, ("write", 1), "ok"), Call(2, 3, ("read",), 0)]
    assert not check(history, 0, register).linearizable


def test_a_read_overlapping_the_write_may_see_either_value():
    for seen in (0, 1):
        history = [Call(0, 5, ("write", 1), "ok"), Call(1, 2, ("read",), seen)]
        assert check(history, 0, register).linearizable, seen


def test_two_reads_cannot_see_the_new_value_then_the_old():
    """The classic: overlapping a write, one read sees 1 and a later one 0 -- not linearizable."""
    history = [
        Call(0, 10, ("write", 1), "ok"),
        Call(1, 2, ("read",), 1),
        Call(3, 4, ("read",), 0),
    ]
    assert not check(history, 0, register).linearizable


def test_a_write_without_an_answer_may_or_may_not_have_happened():
    for seen in (0, 1):
        history = [Call(0, None, ("write", 1)), Call(1, 2, ("read",), seen)]
        assert check(history, 0, register).linearizable, seen


def test_touching_calls_are_concurrent():
    """A read invoked at the instant the write answered may still precede it (clock ties)."""
    history = [Call(0, 1, ("write", 1), "ok"), Call(1, 2, ("read",), 0)]
    assert check(history, 0, register).linearizable


def holder(state, request, answer):
    """One chat: ("transfer", by, to) moves it when ``by`` holds it (200) and is refused (4xx)
    otherwise; ("read", who) answers whether ``who`` holds it."""
    if request[0] == "transfer":
        _, by, to = request
        if answer is None:
            return [to, state] if state == by else [state]
        if answer == 200:
            return [to] if state == by else []
        return [state] if state != by else []
    return [state] if answer == (state == request[1]) else []


def test_two_concurrent_transfers_cannot_both_win():
    history = [Call(0, 5, ("transfer", "A", "B"), 200), Call(1, 6, ("transfer", "A", "C"), 200)]
    assert not check(history, "A", holder).linearizable


def test_one_winner_and_one_refusal_is_linearizable_either_way():
    for first, second in ((200, 409), (409, 200)):
        history = [Call(0, 5, ("transfer", "A", "B"), first), Call(1, 6, ("transfer", "A", "C"), second)]
        assert check(history, "A", holder).linearizable


def test_a_transfer_back_needs_the_first_hop_first():
    history = [
        Call(0, 1, ("transfer", "A", "B"), 200),
        Call(2, 3, ("transfer", "B", "A"), 200),
        Call(4, 5, ("read", "A"), True),
    ]
    assert check(history, "A", holder).linearizable
    history[2] = Call(4, 5, ("read", "A"), False)
    assert not check(history, "A", holder).linearizable


def test_a_search_past_its_bound_is_no_verdict():
    history = [Call(i, i + 100, ("write", i), "ok") for i in range(12)] + [Call(200, 201, ("read",), -1)]
    with pytest.raises(ValueError, match="more than 50 steps"):
        check(history, 0, register, max_steps=50)


def test_a_larger_concurrent_history_is_judged_quickly():
    """Forty overlapping writes and reads that a sequential order explains, judged in bounds."""
    history = []
    for i in range(20):
        history.append(Call(i * 2, i * 2 + 3, ("write", i), "ok"))
        history.append(Call(i * 2 + 1, i * 2 + 2, ("read",), i))
    verdict = check(history, -1, register, max_steps=200_000)
    assert verdict.linearizable and len(verdict.order) == 40
