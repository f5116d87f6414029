import pytest
from hypothesis import given

from strategies import invalid_transfer_bodies
from transfer_conformance.profile import load_profile
from transfer_conformance.verdict import check, check_status

pytestmark = pytest.mark.rule("decision-status-malformed-body")

# Strategies need ids at definition time; the reference profile's ids stand in and are
# replaced by the run's own in render (bodies here are invalid whatever the ids).
_IDS = load_profile("reference").ids()


@given(body=invalid_transfer_bodies(_IDS).filter(lambda b: not b.reason.startswith("hostile")))
def test_malformed_body_answers_the_decided_status(target, body):
    """Broken JSON or XML, or a body of the wrong shape, answers 400 (or the profile's status)."""
    status = target.decision("decision-status-malformed-body")["status"]
    with target.example():
        chat_id = target.open_chat()
        exchange = target.transfer_raw(chat_id, body.raw, body.content_type, f"transfer: {body.reason}")
        check(
            exchange.status == status,
            "decision-status-malformed-body",
            f"{status} for {body.reason}",
            f"{exchange.status}",
            exchange,
        )


def test_body_of_another_media_type_answers_415(target):
    """A body that is neither JSON nor XML answers 415 (or the profile's status)."""
    status = target.decision("decision-status-malformed-body")["unsupported_media_type_status"]
    chat_id = target.open_chat()
    exchange = target.transfer_raw(
        chat_id, b"skill=20", "application/x-www-form-urlencoded", "transfer as a form"
    )
    check_status("decision-status-malformed-body", exchange, status)
