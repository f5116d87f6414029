"""The strategies make what they promise: valid bodies the spec and the XSD accept in both
encodings, and invalid ones they refuse."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import (
    MODEST_TEXT,
    PLAIN_ALPHABET,
    TextDomain,
    TransferBody,
    invalid_transfer_bodies,
    plain_texts,
    render,
    texts_in,
    transfer_bodies,
    xml_texts,
)
from transfer_conformance.target_api.profile import load_profile
from transfer_contract.spec import body_validator, failed_keywords
from transfer_contract.xml_layouts import LAYOUTS
from transfer_contract.xmlcodec import TRANSFER_FORMS, XmlBodyError, normalise_transfer, xsd_codec

IDS = load_profile("reference").ids()
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
@given(text=xml_texts())
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


@settings(max_examples=150, deadline=None)
@given(
    body=NAMED.filter(lambda b: b.text is None or "\x00" not in b.text),
    layout=st.sampled_from(LAYOUTS),
    form=st.sampled_from(sorted(TRANSFER_FORMS)),
)
def test_every_xml_layout_and_form_means_the_json_body(body, layout, form):
    as_json = json.loads(render(body, IDS, "json")[0])
    raw, _ = render(body, IDS, f"xml:{layout}", form)
    codec = xsd_codec()
    decoded = codec.decode_element(normalise_transfer(codec.parse(raw), form))
    assert decoded["transfer"].get("text") == as_json["transfer"].get("text")
    for key in ("agent", "skill"):
        assert (key in decoded["transfer"]) == (key in as_json["transfer"])


def test_a_form_other_than_the_targets_is_refused():
    raw, _ = render(TransferBody(skill="available"), IDS, "xml", "element")
    codec = xsd_codec()
    with pytest.raises(XmlBodyError, match="attribute"):
        normalise_transfer(codec.parse(raw), "attribute")


@settings(max_examples=200, deadline=None)
@given(text=plain_texts())
def test_plain_texts_are_the_documented_domain(text):
    assert 1 <= len(text) <= MODEST_TEXT
    assert set(text) <= set(PLAIN_ALPHABET)
    assert text[0].isalnum() and text[-1].isalnum()


def test_domain_widens_only_by_explicit_declarations():
    assert TextDomain.from_decisions({}) == TextDomain()
    wide = TextDomain.from_decisions(
        {
            "decision-text-length": {"max_chars": 2000},
            "decision-text-characters": {"accepted": "any-xml"},
            "decision-ids-numeric-strings": {"accepted": True},
        }
    )
    assert wide == TextDomain(max_chars=2000, any_xml_characters=True, string_ids=True)


@settings(max_examples=60, deadline=None)
@given(text=texts_in(TextDomain(max_chars=300)))
def test_texts_of_a_declared_length_stay_within_it(text):
    assert len(text) <= 300 and set(text) <= set(PLAIN_ALPHABET)
