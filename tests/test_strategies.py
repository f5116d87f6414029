"""The strategies make what they promise: valid bodies the spec and the XSD accept in both
encodings, and invalid ones they refuse."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import Ids, TransferBody, invalid_transfer_bodies, render, texts, transfer_bodies
from transfer_conformance.profile import load_profile
from transfer_conformance.spec import body_validator, failed_keywords
from transfer_conformance.xmlcodec import XmlBodyError, xsd_codec

IDS = Ids.from_profile(load_profile("reference"))
JSON_BODY = body_validator("transferChat", "request", "application/json")
NAMED = transfer_bodies().filter(lambda b: b.agent is not None or b.skill is not None)


@settings(max_examples=150, deadline=None)
@given(body=NAMED)
def test_valid_bodies_validate_in_json_and_xml_and_mean_the_same(body):
    raw_json, _ = render(body, IDS, "json")
    raw_xml, _ = render(body, IDS, "xml")
    as_json = json.loads(raw_json)
    assert not failed_keywords(JSON_BODY, as_json)
    decoded = xsd_codec().decode(raw_xml, "/transfer")
    assert not failed_keywords(JSON_BODY, decoded)
    # XML decodes ids to numbers; text round-trips exactly (CR is written as &#13;)
    assert decoded["transfer"].get("text") == as_json["transfer"].get("text")
    for key in ("agent", "skill"):
        if key in as_json["transfer"]:
            assert decoded["transfer"][key]["id"] == int(as_json["transfer"][key]["id"])


@settings(max_examples=100, deadline=None)
@given(body=invalid_transfer_bodies(IDS))
def test_invalid_bodies_are_refused_by_the_spec(body):
    if body.content_type.endswith("json"):
        try:
            value = json.loads(body.raw)
        except ValueError:
            return
        assert failed_keywords(JSON_BODY, value), body.reason
    else:
        try:
            xsd_codec().decode(body.raw, "/transfer")
        except XmlBodyError:
            return
        raise AssertionError(f"accepted: {body.reason}")


@settings(max_examples=100, deadline=None)
@given(text=texts())
def test_texts_fit_the_spec_text_schema(text):
    assert not failed_keywords(JSON_BODY, {"transfer": {"skill": {"id": 2}, "text": text}})


def test_bodies_cover_every_shape():
    seen = set()

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(body=transfer_bodies(text=st.none()))
    def collect(body):
        seen.add((body.agent is not None, body.skill is not None))

    collect()
    assert seen == {(True, True), (True, False), (False, True), (False, False)}


def test_without_skill_and_without_text_keep_the_rest():
    body = TransferBody(agent="receiving", skill="available", text="hi", ids_as_strings=True)
    assert body.without_skill() == TransferBody(agent="receiving", text="hi", ids_as_strings=True)
    assert body.without_text() == TransferBody(agent="receiving", skill="available", ids_as_strings=True)
