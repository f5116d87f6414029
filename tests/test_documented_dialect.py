"""The reference speaks the dialect the public pages show, so clients written from them work
against it unchanged; and the suite behaves as a real staging needs (logout as documented,
no chat left ringing for an agent, availability restored)."""

import re
from urllib.parse import urlparse

import pytest
import requests

from reference_target.embedded import EmbeddedReference
from tests.conftest import run_cli, summary_of
from tests.hostile_targets import HostileTarget, passthrough
from transfer_contract.paths import TARGETS

ACCOUNT = "90233546"
APP_KEY = "refkey-7d41c09a"
TARA = {"username": "ref.tara", "password": "ref-pass-tara-51c3"}
RICO = {"username": "ref.rico", "password": "ref-pass-rico-9a07"}
CHAT_ID = re.compile(r"^H\d+-[0-9a-f]+K\d+$")


def short_accept_seed(folder, seconds):
    path = folder / "short-accept.toml"
    path.write_text(
        f'extends = "{TARGETS / "reference.toml"}"\nname = "short-accept"\n'
        f"[reference]\naccept_timeout_s = {seconds}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def reference():
    with EmbeddedReference(seed_path=TARGETS / "variants" / "visitor-host.toml") as served:
        yield served


class DocsClient:
    """A client written from the public pages' examples: it knows the login URL, account, user
    and app key, and reads every other address from what the API answers."""

    def __init__(self, login_base: str) -> None:
        self.http = requests.Session()
        self.scheme = urlparse(login_base).scheme
        self.login_base = login_base

    def login(self, credentials: dict) -> dict:
        answer = self.http.post(
            f"{self.login_base}/api/account/{ACCOUNT}/login?v=1.3", json=credentials, timeout=5
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        domains = {entry["service"]: entry["baseURI"] for entry in body["csdsCollectionResponse"]["baseURIs"]}
        self.agent = f"{self.scheme}://{domains['agentVep']}/api/account/{ACCOUNT}"
        self.visitor = f"{self.scheme}://{domains['conversationVep']}/api/account/{ACCOUNT}"
        self.bearer, self.csrf = body["bearer"], body["csrf"]
        self.headers = {"Authorization": f"Bearer {self.bearer}", "Content-Type": "application/json"}
        return body


def test_login_answers_the_documented_fields_and_cookie(reference):
    client = DocsClient(reference.url)
    body = client.login(TARA)
    for key in ("csrf", "wsuk", "config", "csdsCollectionResponse", "accountData", "sessionTTl", "bearer"):
        assert key in body, key
    assert body["config"]["userId"] and list(body)[-1] == "bearer"
    assert client.http.cookies.get("Session_id")
    assert client.visitor != client.agent, "the visitor service is named with its own host"


def test_pages_examples_work_verbatim_against_the_reference(reference):
    """Login, domains from csdsCollectionResponse, session id by [0-9]*$ as Postman does, take
    with {} as text, events by next links, skills, transfer, agents, refresh and logout."""
    receiver = DocsClient(reference.url)
    receiver.login(RICO)
    receiving = receiver.http.post(
        f"{receiver.agent}/agentSession?v=1", json={"loginData": ""}, headers=receiver.headers, timeout=5
    ).json()["agentSessionLocation"]["link"]["@href"]
    receiver.http.post(
        f"{receiving}/availability?v=1",
        json={"availability": {"chat": "Online"}},
        headers={**receiver.headers, "X-HTTP-Method-Override": "PUT"},
        timeout=5,
    )
    client = DocsClient(reference.url)
    client.login(TARA)
    started = client.http.post(
        f"{client.agent}/agentSession.json?v=1&NC=true",
        json={"loginData": ""},
        headers=client.headers,
        timeout=5,
    )
    assert started.status_code == 201
    session_url = started.json()["agentSessionLocation"]["link"]["@href"]
    session_id = re.search(r"[0-9]*$", session_url).group(0)
    assert session_id, session_url
    session = f"{client.agent}/agentSession/{session_id}"
    online = client.http.post(
        f"{session}/availability.json?v=1&NC=true",
        json={"availability": {"chat": "Online", "chatReasonId": "1"}},
        headers={**client.headers, "X-HTTP-Method-Override": "PUT"},
        timeout=5,
    )
    assert online.status_code == 200
    requested = requests.post(
        f"{client.visitor}/chat/request.json?v=1&appKey={APP_KEY}",
        json={"request": {"skill": "Sales", "maxWaitTime": "30", "language": "en-US", "userAgent": "docs"}},
        timeout=5,
    )
    assert requested.status_code == 201 and requested.headers["Location"]
    ringing = client.http.get(
        f"{session}/incomingRequests.json?v=1&NC=true", headers=client.headers, timeout=5
    )
    assert int(ringing.json()["incomingRequests"]["ringingCount"]) >= 1
    taken = client.http.post(
        f"{session}/incomingRequests.json?v=1&NC=true",
        data="{}",
        headers={"Authorization": f"Bearer {client.bearer}", "Content-Type": "text/plain"},
        timeout=5,
    )
    assert taken.status_code == 201, taken.text
    chat_url = taken.json()["chatLocation"]["link"]["@href"]
    assert CHAT_ID.match(chat_url.rsplit("/", 1)[-1]), chat_url
    chat = client.http.get(f"{chat_url}.json?v=1&NC=true", headers=client.headers, timeout=5).json()["chat"]
    events_link = next(link["@href"] for link in chat["events"]["link"] if link["@rel"] == "next")
    # The sample app's way: /events becomes /events.json, and the query goes on with &.
    follow = events_link.replace("/events", "/events.json") + "&v=1&NC=true"
    assert client.http.get(follow, headers=client.headers, timeout=5).status_code == 200
    line = client.http.post(
        f"{chat_url}/events.json?v=1&NC=true",
        json={"event": {"@type": "line", "textType": "rich-content", "json": {"type": "text", "text": "hi"}}},
        headers=client.headers,
        timeout=5,
    )
    assert line.status_code == 201, line.text
    skills = client.http.get(f"{chat_url}/transfer.json?v=1&NC=true", headers=client.headers, timeout=5)
    assert skills.status_code == 200
    agents = client.http.get(
        f"{session}/availableAgents.json?v=1&NC=true&chatState=Online", headers=client.headers, timeout=5
    ).json()["availableAgents"]
    assert agents["link"]["@rel"] == "next"
    listed = agents["agents"]["agent"]
    # One agent comes as an object, several as a list (the JSON convention the clients handle).
    listed = listed if isinstance(listed, list) else [listed]
    rico = next(a for a in listed if a["userName"] == "ref.rico")
    # As the docs' example, `chats` only where an agent holds some (Tara holds this chat).
    assert "chats" not in rico
    assert next(a for a in listed if a["userName"] == "ref.tara")["chats"] == "1"
    # The one public client that transfers sends the text beside the transfer object.
    moved = client.http.post(
        f"{chat_url}/transfer.json?v=1&NC=true",
        json={"transfer": {"agent": {"id": rico["@id"]}}, "text": "over to you"},
        headers=client.headers,
        timeout=5,
    )
    assert moved.status_code == 200, moved.text
    refreshed = client.http.post(
        f"{client.login_base}/api/account/{ACCOUNT}/refresh", json={"csrf": client.csrf}, timeout=5
    )
    assert refreshed.status_code == 200
    bad_csrf = client.http.post(
        f"{client.login_base}/api/account/{ACCOUNT}/logout", json={"csrf": "x"}, timeout=5
    )
    assert bad_csrf.status_code == 401
    out = client.http.post(
        f"{client.login_base}/api/account/{ACCOUNT}/logout", json={"csrf": client.csrf}, timeout=5
    )
    assert out.status_code == 200
    after = requests.get(f"{session}/availability?v=1", headers=client.headers, timeout=5)
    assert after.status_code in (401, 404)
    receiver.http.post(
        f"{receiver.login_base}/api/account/{ACCOUNT}/logout", json={"csrf": receiver.csrf}, timeout=5
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"{}"), (None, b"{}"), (None, b""), ("application/json", b'{"": ""}')],
    ids=["text-plain", "no-type", "no-body", "python-client"],
)
def test_accept_chat_takes_its_body_in_any_form(reference, content_type, body):
    client = DocsClient(reference.url)
    client.login(TARA)
    started = client.http.post(
        f"{client.agent}/agentSession?v=1", json={"loginData": ""}, headers=client.headers, timeout=5
    )
    session = started.json()["agentSessionLocation"]["link"]["@href"]
    requests.post(
        f"{client.visitor}/chat/request?v=1&appKey={APP_KEY}", json={"request": {"skill": "Sales"}}, timeout=5
    )
    headers = {"Authorization": f"Bearer {client.bearer}"}
    if content_type:
        headers["Content-Type"] = content_type
    taken = client.http.post(f"{session}/incomingRequests?v=1", data=body, headers=headers, timeout=5)
    assert taken.status_code == 201, taken.text
    chat_url = taken.json()["chatLocation"]["link"]["@href"]
    client.http.post(
        f"{chat_url}/events?v=1",
        json={"event": {"@type": "state", "state": "ended"}},
        headers=client.headers,
        timeout=5,
    )
    client.http.post(
        f"{client.login_base}/api/account/{ACCOUNT}/logout", json={"csrf": client.csrf}, timeout=5
    )


@pytest.mark.run
def test_unaccepted_chat_sets_its_agent_away(tmp_path):
    """Accept Chat, note 2, with a timeout of half a second: polled, not slept on."""
    with EmbeddedReference(seed_path=short_accept_seed(tmp_path, 0.5)) as served:
        client = DocsClient(served.url)
        client.login(TARA)
        session = client.http.post(
            f"{client.agent}/agentSession?v=1", json={"loginData": ""}, headers=client.headers, timeout=5
        ).json()["agentSessionLocation"]["link"]["@href"]
        requests.post(
            f"{client.visitor}/chat/request?v=1&appKey={APP_KEY}",
            json={"request": {"skill": "Sales"}},
            timeout=5,
        )
        state = "Online"
        for _ in range(5000):  # bounded: the sweep runs once a second
            answer = client.http.get(f"{session}/availability?v=1", headers=client.headers, timeout=5)
            state = answer.json()["availability"]["chat"]
            if state == "Away":
                break
        assert state == "Away"


@pytest.mark.run
def test_ci_run_passes_with_a_short_accept_timeout_and_logs_out_as_documented(tmp_path):
    """With a 2-second accept timeout a strict run of every test passes (no chat rings
    unanswered for a profile agent), nothing is left behind (no chat open or ringing, no
    session), and every profile agent is logged out, by cookie and csrf. (The self-test's one
    strict run of every test on the reference, three examples each: the ci profile's whole
    budget is the main job's; tests/test_fault_matrix.py runs each fault's rule.)"""
    seed = short_accept_seed(tmp_path, 2)
    with EmbeddedReference(seed_path=seed) as served, HostileTarget(served.url, passthrough) as proxy:
        done = run_cli(
            "run",
            "--target",
            str(seed),
            "--target-url",
            proxy.url,
            "--strict",
            "--examples",
            "3",
            "--no-report",
            "--output",
            str(tmp_path / "reports"),
        )
        state = requests.get(f"{served.url}/_reference/state", timeout=5).json()
        logouts = [e for e in proxy.requests if e.path.endswith("/logout")]
    assert done.returncode == 0, done.stdout[-3000:]
    results = summary_of(tmp_path / "reports")["results"]
    assert results and all(r["outcome"] == "passed" for r in results if r["outcome"] != "skipped")
    assert (tmp_path / "reports" / "junit.xml").exists()
    assert (state["bearers"], state["sessions"], state["open_chats"], state["ringing_chats"]) == (
        0,
        0,
        0,
        0,
    ), state
    assert len(logouts) == 3
    assert all("Session_id=" in e.headers.get("Cookie", "") and b"csrf" in e.body for e in logouts)
    assert not any("Authorization" in e.headers for e in logouts)
