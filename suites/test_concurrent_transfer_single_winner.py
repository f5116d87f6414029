import threading

import pytest

from transfer_contract.transfer_body import TransferBody

pytestmark = pytest.mark.rule("concurrent-transfer-single-winner")

ROUNDS = 4


def test_two_concurrent_transfers_have_one_winner(target, rule):
    """Of two transfers of one chat sent at once, exactly one succeeds."""
    for _ in range(ROUNDS):
        chat_id = target.open_chat()
        bodies = [TransferBody(agent="receiving"), TransferBody(skill="available")]
        start = threading.Barrier(len(bodies))
        answers = [None] * len(bodies)

        def send(index, body, chat_id=chat_id, start=start, answers=answers):
            start.wait()
            answers[index] = target.transfer(chat_id, body)

        threads = [threading.Thread(target=send, args=(i, b)) for i, b in enumerate(bodies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [a for a in answers if a is not None and 200 <= a.status < 300]
        rule.check(
            len(winners) == 1,
            "exactly one 2xx",
            f"statuses {[a.status for a in answers if a is not None]}",
            *[a for a in answers if a],
        )
        target.clean_up()
