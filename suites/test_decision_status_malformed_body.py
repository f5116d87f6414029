import pytest
from hypothesis import given

from strategies import invalid_transfer_bodies
from transfer_conformance.target_api.profile import load_profile

pytestmark = pytest.mark.rule("decision-status-malformed-body")

# Strategies need ids at definition time; the reference profile's ids stand in and are
# replaced by the run's own in render (bodies here are invalid whatever the ids).
_IDS = load_profile("reference").ids()


@given(body=invalid_transfer_bodies(_IDS, hostile=False))
def test_malformed_body_answers_the_decided_status(target, rule, body):
    """Broken JSON or XML, or a body of the wrong shape, answers 400 (or the profile's status)."""
    status = target.decision(rule.id)["status"]
    with target.example():
        chat_id = target.open_chat()
        exchange = target.transfer_raw(chat_id, body.raw, body.content_type, f"transfer: {body.reason}")
        rule.status(exchange, status)


def test_body_of_another_media_type_answers_415(target, rule):
    """A body that is neither JSON nor XML answers 415 (or the profile's status)."""
    status = target.decision(rule.id)["unsupported_media_type_status"]
    chat_id = target.open_chat()
    exchange = target.transfer_raw(
        chat_id, b"skill=20", "application/x-www-form-urlencoded", "transfer as a form"
    )
    rule.status(exchange, status, key="unsupported_media_type_status")
