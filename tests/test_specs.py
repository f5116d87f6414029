"""The spec, the XSD and the vectors agree with each other."""

import json

import pytest
import yaml
from openapi_spec_validator import validate

from transfer_contract.catalogue import vectors
from transfer_contract.paths import OPENAPI
from transfer_contract.spec import body_validator, failed_keywords, operations, xsd_paths
from transfer_contract.xmlcodec import XmlBodyError, render_body_xml, xsd_codec

DOC_SKILL_EXAMPLE = {
    "transfer": {"skill": {"id": 2}, "text": "I think this person needs some help from you."}
}


def test_openapi_document_is_valid():
    with OPENAPI.open(encoding="utf-8") as handle:
        validate(yaml.safe_load(handle))


def test_xsd_compiles_as_xsd_1_1():
    assert xsd_codec().schema.XSD_VERSION == "1.1"


@pytest.mark.parametrize("operation_id", ["transferChat", "getAvailableSkills"])
def test_transfer_operations_declare_json_and_xml(operation_id):
    operation = operations()[operation_id]
    if operation.method == "POST":
        assert operation.request_media("application/json") is not None
        assert operation.request_media("application/xml") is not None
        errors = ("400", "application/json"), ("400", "application/xml")
    else:
        errors = ("200", "application/json"), ("200", "application/xml")
    for status, media in errors:
        assert operation.response_media(status, media) is not None


def test_every_operation_links_its_doc_page():
    for operation in operations().values():
        url = operation.definition.get("externalDocs", {}).get("url", "")
        assert url.startswith("https://developers.liveperson.com/"), operation.operation_id


def test_every_xml_media_type_names_an_xsd_element():
    codec = xsd_codec()
    for operation in operations().values():
        contents = [operation.definition.get("requestBody", {}).get("content", {})]
        for status in operation.definition["responses"]:
            media = operation.response_media(status, "application/xml")
            if media is not None:
                contents.append({"application/xml": media})
        for content in contents:
            if "application/xml" in content:
                for path in xsd_paths_of(content["application/xml"]):
                    assert codec.schema.find(path) is not None, (operation.operation_id, path)


def xsd_paths_of(media):
    paths = media["x-xsd-element"]
    return [paths] if isinstance(paths, str) else paths


def test_docs_skill_example_round_trips_through_xml():
    xml = (
        b"<transfer><skill><id>2</id></skill>"
        b"<text>I think this person needs some help from you.</text></transfer>"
    )
    assert xsd_codec().decode(xml, "/transfer") == DOC_SKILL_EXAMPLE
    assert render_body_xml(DOC_SKILL_EXAMPLE) == xml
    validator = body_validator("transferChat", "request", "application/json")
    assert not failed_keywords(validator, DOC_SKILL_EXAMPLE)


def _json_of(vector):
    return json.loads(vector.json_raw) if vector.json_raw is not None else vector.json


def _media(vector, media_type):
    return body_validator(vector.operation, vector.direction, media_type, vector.status)


def _xml_path(vector):
    (path,) = xsd_paths(vector.operation, vector.direction, vector.status)
    return path


VALID = [v for v in vectors() if v.valid]
INVALID = [v for v in vectors() if not v.valid]


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v.id)
def test_valid_vector_is_accepted_by_openapi_and_xsd(vector):
    assert not failed_keywords(_media(vector, "application/json"), _json_of(vector))
    decoded = xsd_codec().decode(vector.xml.encode("utf-8"), _xml_path(vector))
    # the XML decodes to the JSON (or, where the JSON uses a permitted variant, to its
    # canonical form), and that decoded form is itself a valid JSON body
    assert decoded == vector.xml_decodes_to
    assert not failed_keywords(_media(vector, "application/json"), decoded)


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v.id)
def test_valid_vector_xml_renders_back_to_equivalent_xml(vector):
    codec = xsd_codec()
    decoded = codec.decode(vector.xml.encode("utf-8"), _xml_path(vector))
    assert codec.decode(render_body_xml(decoded), _xml_path(vector)) == decoded


@pytest.mark.parametrize("vector", INVALID, ids=lambda v: v.id)
def test_invalid_vector_is_rejected_for_its_reason(vector):
    reasons = vector.invalid_because
    if vector.json_raw is not None:
        with pytest.raises(json.JSONDecodeError):
            json.loads(vector.json_raw)
        assert reasons["json"] == "syntax"
    else:
        assert reasons["json"] in failed_keywords(_media(vector, "application/json"), vector.json)
    with pytest.raises(XmlBodyError) as caught:
        xsd_codec().decode(vector.xml.encode("utf-8"), _xml_path(vector))
    assert reasons["xml"].lower() in caught.value.reason.lower()
