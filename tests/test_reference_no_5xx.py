"""The reference never answers 5xx, whatever it is sent: Schemathesis' positive and negative
cases over every operation (real ids), and raw bodies a hostile client sends, counted."""

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from reference_target.embedded import EmbeddedReference
from transfer_conformance.http.client import RecordingClient
from transfer_conformance.target_api.api import ChatApi
from transfer_conformance.target_api.harness import Harness
from transfer_conformance.target_api.profile import load_profile
from transfer_contract.paths import OPENAPI
from transfer_contract.spec import operations

pytestmark = [pytest.mark.run, pytest.mark.xdist_group("no-5xx")]
SCHEMA = schemathesis.openapi.from_path(str(OPENAPI))
BOUNDED = settings(
    max_examples=12,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def harness():
    profile = load_profile("reference")
    with EmbeddedReference() as reference:
        profile.base_url = profile.login_url = profile.visitor_url = reference.url
        harness = Harness(ChatApi(profile, RecordingClient()), profile.ids())
        harness.bring_agents_online()
        yield harness
        harness.clean_up()


def server_errors(statuses):
    return [status for status in statuses if status >= 500]


@pytest.mark.parametrize("operation_id", sorted(operations()))
def test_no_generated_case_gets_a_5xx(harness, operation_id):
    operation = SCHEMA.find_operation_by_id(operation_id)
    agent = harness.transferring
    statuses = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        path_parameters = {"accountId": harness.profile.account_id, "agentSessionId": agent.session_id}
        path_parameters = {
            k: v for k, v in path_parameters.items() if f"{{{k}}}" in operations()[operation_id].path
        }

        @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
        @BOUNDED
        def one(case):
            if "chatId" in (case.path_parameters or {}):
                case.path_parameters["chatId"] = harness.open_chat()
            # Logout ends the bearer it is given: it gets a login of its own.
            bearer = harness.api.auth.login(agent.login) if operation_id == "agentLogout" else agent.bearer
            headers = {"Authorization": f"Bearer {bearer}", "Accept": "application/json"}
            response = case.call(base_url=harness.profile.base_url, headers=headers, timeout=10)
            statuses.append(response.status_code)
            harness.clean_up()
            harness.api.set_availability(agent, "Online")

        one()
    assert statuses and not server_errors(statuses), sorted(set(statuses))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
RAW_BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda value: json.dumps({"transfer": value}).encode()),
    st.integers(1, 3000).map(lambda depth: ("[" * depth + "]" * depth).encode()),
    st.text(max_size=40).map(
        lambda text: f'{{"transfer": {{"agent": {{"id": 6}}, "text": "{text}"}}}}'.encode()
    ),
    st.sampled_from(
        [
            b'{"transfer": {"agent": {"id": 6}, "text": "\\ud800"}}',
            b'<x:transfer xmlns:x="urn:x"><skill><id>2</id></skill></x:transfer>',
            "<transfer><agent><id>\u0666</id></agent></transfer>".encode(),
            b"<transfer><skill><id>99999999999999999999999999</id></skill></transfer>",
            b"<?xml version='1.0' encoding='latin-1'?><transfer><text>\xe9</text></transfer>",
        ]
    ),
)


@given(
    body=RAW_BODIES,
    content_type=st.sampled_from(
        ["application/json", "application/xml", "text/plain", "", "application/x-www-form-urlencoded"]
    ),
    path=st.sampled_from(["transfer", "events", ""]),
)
@settings(BOUNDED, max_examples=60)
def test_no_raw_hostile_body_gets_a_5xx(harness, body, content_type, path):
    chat_id = harness.open_chat()
    url = f"{harness.transferring.session_url}/chat/{chat_id}/{path}".rstrip("/") + "?v=1"
    if not path:
        url = f"{harness.profile.base_url}/api/account/{harness.profile.account_id}/login?v=1.3"
    headers = {"Authorization": f"Bearer {harness.transferring.bearer}"}
    if content_type:
        headers["Content-Type"] = content_type
    answer = requests.post(url, data=body, headers=headers, timeout=10)
    read_back = requests.get(
        f"{harness.profile.visitor_url}/api/account/{harness.profile.account_id}/chat/{chat_id}"
        f"?v=1&appKey={harness.profile.visitor_app_key}",
        timeout=10,
    )
    harness.clean_up()
    assert answer.status_code < 500 and read_back.status_code < 500, (answer.status_code, answer.text[:200])


@given(username=st.sampled_from(["ref.tara", "nobody"]), password=st.text(min_size=1, max_size=30))
@BOUNDED
def test_no_login_gets_a_5xx(harness, username, password):
    url = f"{harness.profile.login_url}/api/account/{harness.profile.account_id}/login?v=1.3"
    answer = requests.post(url, json={"username": username, "password": password}, timeout=10)
    assert answer.status_code < 500, (answer.status_code, answer.text[:200])
