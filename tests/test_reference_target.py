"""The reference target: the docs' examples, an end-to-end flow in both encodings, the recorded
decisions, hostile and concurrent input, and bounded state."""

import json
import threading

import pytest
import requests

from reference_target.embedded import EmbeddedReference
from reference_target.seed import build_world, load_seed
from reference_target.state import Limits
from transfer_conformance.http.client import RecordingClient
from transfer_conformance.target_api.api import ChatApi
from transfer_conformance.target_api.harness import Harness, decode, events_of
from transfer_conformance.target_api.profile import load_profile
from transfer_contract.xmlcodec import xsd_codec

DOC_SKILL = {"transfer": {"skill": {"id": 2}, "text": "I think this person needs some help from you."}}
DOC_AGENT = {"transfer": {"agent": {"id": 6}, "text": "I think this person needs some help from you."}}


@pytest.fixture(scope="module")
def reference():
    with EmbeddedReference() as server:
        yield server


@pytest.fixture
def harness(reference):
    profile = load_profile("reference")
    profile.base_url = profile.login_url = profile.visitor_url = reference.url
    harness = Harness(ChatApi(profile, RecordingClient()), profile.ids())
    harness.bring_agents_online()
    yield harness
    harness.clean_up()
    harness.log_out()


def post(harness, chat_id, body, content_type="application/json", accept="application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return harness.api.transfer(harness.transferring, chat_id, raw, content_type, "transfer", accept=accept)


def texts_seen(exchange):
    return [str(e.get("text") or "") for e in events_of(exchange.json())]


@pytest.mark.parametrize("example", [DOC_SKILL, DOC_AGENT], ids=["skill", "agent"])
def test_docs_request_examples_transfer_the_chat(harness, example):
    chat_id = harness.open_chat()
    assert post(harness, chat_id, example).status == 200
    assert harness.receiver_takes(chat_id)
    seen = texts_seen(harness.api.agent_chat(harness.receiving, chat_id))
    assert example["transfer"]["text"] in seen


@pytest.mark.parametrize("encoding", ["json", "xml"])
def test_end_to_end_flow(harness, encoding):
    api = harness.api
    chat_id = harness.open_chat()
    skills = api.available_skills(harness.transferring, chat_id, encoding)
    assert skills.status == 200 and skills.content_type.endswith(encoding)
    listed = decode(skills, "getAvailableSkills")["transfer"]["skill"]
    ids = {s["id"] for s in (listed if isinstance(listed, list) else [listed])}
    assert ids == {"2", "21"}  # the receiving agent's skills; Sales has only the current agent
    media = "application/xml" if encoding == "xml" else "application/json"
    body = (
        b"<transfer><agent><id>6</id></agent><skill><id>40</id></skill><text>for Rico</text></transfer>"
        if encoding == "xml"
        else {"transfer": {"agent": {"id": 6}, "skill": {"id": 40}, "text": "for Rico"}}
    )
    assert post(harness, chat_id, body, media).status == 200
    again = post(harness, chat_id, DOC_AGENT)
    assert again.status == 404
    assert harness.receiver_takes(chat_id)
    assert "for Rico" in texts_seen(api.agent_chat(harness.receiving, chat_id))
    assert not any("for Rico" in s for s in harness.visitor_strings(chat_id))


def test_xml_transfer_to_unavailable_skill_changes_nothing(harness):
    chat_id = harness.open_chat()
    answer = post(
        harness,
        chat_id,
        b"<transfer><skill><id>40</id></skill></transfer>",
        "application/xml",
        "application/xml",
    )
    assert answer.status == 400
    assert xsd_codec().decode(answer.content)["error"]["message"]
    assert harness.still_with_first_agent(chat_id)[0]


@pytest.mark.rule("decision-top-level-text")
def test_text_beside_the_transfer_object_is_used(harness):
    chat_id = harness.open_chat()
    assert post(harness, chat_id, {"transfer": {"agent": {"id": 6}}, "text": "beside"}).status == 200
    assert harness.receiver_takes(chat_id)
    assert "beside" in texts_seen(harness.api.agent_chat(harness.receiving, chat_id))


@pytest.mark.rule("decision-text-placement")
def test_text_is_an_agent_only_line_after_the_system_line(harness):
    chat_id = harness.open_chat()
    assert post(harness, chat_id, DOC_AGENT).status == 200
    assert harness.receiver_takes(chat_id)
    events = events_of(harness.api.agent_events(harness.receiving, chat_id).json())
    system = next(i for i, e in enumerate(events) if e.get("systemMessageId") == 13)
    note = events[system + 1]
    assert note["text"] == DOC_AGENT["transfer"]["text"]
    assert (note["source"], note["subType"], note["by"]) == ("agent", "ONLY_TO_REP", "Tara")


@pytest.mark.rule("decision-chat-after-transfer")
def test_transferred_chat_stays_chatting_and_rings_for_the_target(harness):
    chat_id = harness.open_chat()
    assert post(harness, chat_id, DOC_SKILL).status == 200
    visitor = harness.api.visitor_chat(chat_id).json()["chat"]
    assert visitor["info"]["state"] == "chatting"
    assert 15 in [e.get("systemMessageId") for e in events_of({"chat": visitor})]
    assert harness.api.ringing_count(harness.receiving) >= 1


@pytest.mark.rule("decision-transfer-to-max-chats-agent")
def test_agent_holding_max_chats_cannot_receive_a_transfer(harness):
    api = harness.api
    away = harness.agents["away"]
    api.expect_status(api.set_availability(away, "Online"), 200)
    legal = []
    try:
        for _ in range(5):  # Ada's max_chats in the seed
            url = f"{api.account_url(api.profile.visitor_url)}/chat/request?{api.visitor_query()}"
            answer = api.client.send(
                "POST",
                url,
                title="Legal chat",
                headers=api.headers(content_type="json"),
                body=b'{"request": {"skill": "Legal"}}',
            )
            legal.append(answer.response_headers["location"].rsplit("/", 1)[-1])
            assert api.take_chat(away) == legal[-1]
        chat_id = harness.open_chat()
        assert post(harness, chat_id, {"transfer": {"agent": {"id": 1003}}}).status == 400
    finally:
        harness.created.extend(legal)
        api.set_availability(away, "Away")


@pytest.mark.rule("decision-success-body")
def test_successful_transfer_has_no_body(harness):
    chat_id = harness.open_chat()
    answer = post(harness, chat_id, DOC_SKILL)
    assert (answer.status, answer.content, answer.response_headers.get("location")) == (
        200,
        b"",
        None,
    )


@pytest.mark.rule("decision-take-nothing-ringing")
def test_take_with_nothing_ringing_is_404(harness):
    api = harness.api
    answer = api.client.send(
        "POST",
        f"{harness.receiving.session_url}/incomingRequests?v=1",
        title="take",
        headers=api.headers(harness.receiving, content_type="json"),
        body=b"{}",
    )
    assert answer.status == 404 and answer.json()["error"]["message"]


@pytest.mark.rule("decision-logout-by-bearer")
def test_logout_ends_the_bearer_and_its_sessions(reference):
    profile = load_profile("reference")
    profile.base_url = profile.login_url = profile.visitor_url = reference.url
    api = ChatApi(profile, RecordingClient())
    login = profile.agents["away"]
    agent = api.auth.log_in(login)
    assert api.auth.logout(agent).status == 200
    assert api.get_availability(agent).status == 401


def test_external_entity_is_refused_and_nothing_is_read(harness):
    chat_id = harness.open_chat()
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE transfer [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b"<transfer><skill><id>2</id></skill><text>&x;</text></transfer>"
    )
    answer = post(harness, chat_id, hostile, "application/xml")
    assert answer.status == 400
    assert harness.still_with_first_agent(chat_id)[0]


def test_entity_expansion_is_refused_before_parsing(harness):
    chat_id = harness.open_chat()
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "x" * 10}">' for i in range(9))
    bomb = f'<?xml version="1.0"?><!DOCTYPE transfer [{entities}]><transfer><text>&e8;</text></transfer>'
    answer = post(harness, chat_id, bomb.encode(), "application/xml")
    assert answer.status == 400
    # refused for the DTD itself (defusedxml), not after expanding it
    assert "forbidden XML construct" in answer.json()["error"]["message"]


def test_ten_megabyte_body_is_refused_with_413(harness, reference):
    chat_id = harness.open_chat()
    answer = post(harness, chat_id, b'{"transfer": {"text": "' + b"x" * 10_000_000 + b'"}}')
    assert answer.status == 413
    assert requests.get(reference.url + "/", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("body", "media", "status"),
    [
        (b"{", "application/json", 400),
        (b"<transfer>", "application/xml", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"skill=2", "text/plain", 415),
        (b"", "application/json", 400),
    ],
)
def test_malformed_input_gets_a_4xx_with_the_error_body(harness, body, media, status):
    chat_id = harness.open_chat()
    answer = post(harness, chat_id, body, media)
    assert answer.status == status
    assert answer.json()["error"]["message"]


def test_concurrent_transfers_of_one_chat_have_one_winner(harness):
    chat_id = harness.open_chat()
    start = threading.Barrier(8)
    statuses = []

    def send():
        start.wait()
        statuses.append(post(harness, chat_id, DOC_SKILL if len(statuses) % 2 else DOC_AGENT).status)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [404] * 7


def test_links_and_location_follow_the_request_host(reference):
    answer = requests.post(
        f"{reference.url}/api/account/90233546/chat/request?v=1&appKey=refkey-7d41c09a",
        json={"request": {"skill": "Sales"}},
        headers={"Host": "proxy.example:8443"},
        timeout=5,
    )
    assert answer.status_code == 201
    assert answer.headers["location"].startswith("http://proxy.example:8443/api/account/90233546/chat/")
    chat_id = answer.headers["location"].rsplit("/", 1)[-1]
    requests.post(
        f"{reference.url}/api/account/90233546/chat/{chat_id}/events?v=1&appKey=refkey-7d41c09a",
        json={"event": {"@type": "state", "state": "ended"}},
        timeout=5,
    )


def test_json_suffix_routes_like_the_plain_path(harness):
    chat_id = harness.open_chat()
    url = f"{harness.api.agent_chat_url(harness.transferring, chat_id)}/transfer.json?v=1"
    answer = harness.api.client.send(
        "GET", url, title="skills.json", headers=harness.api.headers(harness.transferring, "xml")
    )
    assert answer.status == 200 and answer.content_type == "application/json"


def test_state_summary_is_reference_only(reference):
    summary = requests.get(reference.url + "/_reference/state", timeout=5).json()
    assert summary["referenceOnly"] is True and "open_chats" in summary


def test_root_answers_200(reference):
    assert requests.get(reference.url + "/", timeout=5).status_code == 200


def test_ended_chats_and_idle_sessions_are_forgotten():
    limits = Limits(
        session_idle_s=0,
        bearer_idle_s=0,
        chat_idle_s=3600,
        ended_chat_retention_s=0,
        sweep_every_s=0,
    )
    world = build_world(load_seed(), limits=limits)
    _, agent = world.login("ref.tara", "ref-pass-tara-51c3")
    world.start_session(agent)
    chat = world.request_chat("Sales")
    world.end_chat(chat)
    world.sweep()
    assert world.summary() == {
        "bearers": 0,
        "sessions": 0,
        "chats": 0,
        "open_chats": 0,
        "ringing_chats": 0,
    }


def test_agent_information_chat_sessions_and_several_chats_in_one_read(harness):
    """Retrieve Agent Information, Retrieve Chat Sessions and Retrieve Data for Multiple Chats:
    each answers as its page shows, in JSON and in XML the XSD accepts."""
    api, agent = harness.api, harness.transferring
    info = api.agent_info(agent)
    assert info.status == 200
    body = info.json()["info"]
    assert (body["id"], body["loginName"], body["availability"]["chat"]) == ("1001", "ref.tara", "Online")
    assert body["skillsInfo"]["skillInfo"]["name"] == "Sales"
    empty = api.chat_sessions(agent)
    assert empty.status == 200 and not empty.json()["chatSessions"]
    first, second = harness.open_chat(), harness.open_chat()
    sessions = api.chat_sessions(agent)
    listed = [entry["chatSessionKey"] for entry in sessions.json()["chatSessions"]["chatSession"]]
    assert listed == [first, second]
    together = api.agent_chats(agent, [first, second])
    assert together.status == 200
    keys = [chat["info"]["chatSessionKey"] for chat in together.json()["chats"]["chat"]]
    assert keys == [first, second]
    for path, operation in (
        ("/info", "getAgentInfo"),
        ("/chatSessions", "getChatSessions"),
        (f"/chat?chatSessionKeys={first},{second}&fromEventIds=2,0", "getAgentChats"),
    ):
        url = f"{agent.session_url}{path}{'&' if '?' in path else '?'}v=1&NC=true"
        xml = api.client.send("GET", url, title=operation, headers=api.headers(agent, "xml"))
        assert xml.status == 200 and decode(xml, operation)
    # a chat that is not this session's is not read along with the others
    assert api.agent_chats(harness.receiving, [first]).status == 404


def test_embedded_reference_dies_with_the_process_that_started_it():
    """SIGKILL the process that started an embedded reference: the reference exits too (its
    standard input closes), rather than listening on, orphaned."""
    import os
    import select
    import signal
    import subprocess
    import sys

    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from reference_target.embedded import EmbeddedReference\n"
            "served = EmbeddedReference(); served.start()\n"
            "print(served.process.pid, served.url, flush=True)\n"
            "import sys; sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pid, url = starter.stdout.readline().split()
        assert requests.get(url, timeout=5).status_code == 200
        child = os.pidfd_open(int(pid))
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
        exited, _, _ = select.select([child], [], [], 10)
        os.close(child)
        assert exited, "the embedded reference outlived the process that started it"
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=5)
    finally:
        starter.kill()
        starter.wait(timeout=10)
