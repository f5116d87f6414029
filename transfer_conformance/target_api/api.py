"""The documented calls the suite makes, on top of the recording client.

Only the documented HTTP API: the same code runs against the embedded reference, a URL and
staging. Every call sends `v=1&NC=true` as the documented URLs do; agents log in and out
through `auth`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from reference_target.embedded import EmbeddedReference
from transfer_conformance.http.client import Exchange, RecordingClient, RetryBudget
from transfer_conformance.target_api.auth import AgentAuth, AgentContext, authorization
from transfer_conformance.target_api.calls import (
    MEDIA,
    QUERY,
    SetupError,
    account_url,
    expect_status,
    json_body,
    with_query,
)
from transfer_conformance.target_api.profile import TargetProfile


def client_for(profile: TargetProfile) -> RecordingClient:
    """The recording client the profile asks for: its timeout, rate limit, response size cap
    and Retry-After budget. The suite and replay talk to a target through the same one."""
    return RecordingClient(
        profile.request_timeout_s,
        profile.requests_per_second,
        max_response_bytes=profile.max_response_bytes,
        retry_budget=RetryBudget(profile.retry_after_cap_s, profile.retry_budget_s),
        concurrency=profile.concurrency,
    )


def start_embedded(profile: TargetProfile, faults: Iterable[str]) -> EmbeddedReference:
    """Start the embedded reference the profile names (seeded from the profile itself,
    targets/reference.toml) with ``faults``, and point the profile's URLs at it."""
    embedded = spawn_embedded(profile, faults)
    point_at(profile, embedded)
    return embedded


def spawn_embedded(profile: TargetProfile, faults: Iterable[str]) -> EmbeddedReference:
    """The embedded reference, starting (`point_at` waits for it)."""
    embedded = EmbeddedReference(tuple(faults), Path(profile.source))
    embedded.spawn()
    return embedded


def point_at(profile: TargetProfile, embedded: EmbeddedReference) -> None:
    """Wait for the embedded reference to listen and point the profile's URLs at it."""
    profile.base_url = profile.login_url = embedded.wait_ready()
    profile.visitor_url = embedded.visitor_url


class ChatApi:
    def __init__(self, profile: TargetProfile, client: RecordingClient) -> None:
        self.profile = profile
        self.client = client
        self.auth = AgentAuth(profile, client)
        # role -> the availability this run last set (accepted): what another client changed
        # under the run shows as a difference from it
        self.availability_set: dict[str, str] = {}

    # ------------------------------------------------------------------ urls
    def account_url(self, base: str) -> str:
        return account_url(base, self.profile.account_id)

    def agent_chat_url(self, agent: AgentContext, chat_id: str) -> str:
        return f"{agent.session_url}/chat/{chat_id}"

    def visitor_chat_url(self, chat_id: str) -> str:
        return f"{self.account_url(self.profile.visitor_url)}/chat/{chat_id}"

    def visitor_query(self) -> str:
        # Encoded: a key with / : = @ ! must reach the target as itself.
        return f"{QUERY}&appKey={quote(self.profile.visitor_app_key, safe='')}"

    @staticmethod
    def headers(
        agent: AgentContext | None = None,
        accept: str = "json",
        content_type: str | None = None,
        bearer: str | None = None,
    ) -> dict[str, str]:
        headers = {"Accept": MEDIA.get(accept, accept)}
        headers.update(authorization(bearer if bearer is not None else (agent.bearer if agent else None)))
        if content_type:
            headers["Content-Type"] = MEDIA.get(content_type, content_type)
        return headers

    expect_status = staticmethod(expect_status)

    def set_availability(self, agent: AgentContext, state: str, setup: bool = True) -> Exchange:
        headers = self.headers(agent, content_type="json")
        headers["X-HTTP-Method-Override"] = "PUT"
        exchange = self.client.send(
            "POST",
            with_query(f"{agent.session_url}/availability"),
            title=f"set the {agent.role} agent {state}",
            headers=headers,
            setup=setup,
            body=json_body({"availability": {"chat": state}}),
        )
        if exchange.status == 200:
            self.availability_set[agent.role] = state
        return exchange

    def get_availability(self, agent: AgentContext) -> Exchange:
        return self.client.send(
            "GET",
            with_query(f"{agent.session_url}/availability"),
            title=f"read the {agent.role} agent's availability",
            headers=self.headers(agent),
        )

    # ------------------------------------------------------------------ chats
    def request_chat(self, title: str = "the visitor requests a chat") -> str:
        url = f"{self.account_url(self.profile.visitor_url)}/chat/request?{self.visitor_query()}"
        exchange = self.client.send(
            "POST",
            url,
            title=title,
            setup=True,
            headers=self.headers(content_type="json"),
            body=json_body({"request": {"skill": self.profile.visitor_skill}}),
        )
        self.expect_status(exchange, 200, 201)
        location = exchange.response_headers.get("location", "")
        if not location:
            raise SetupError("chat request answered without a Location header")
        return location.split("?")[0].rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")

    def ringing_count(self, agent: AgentContext) -> int:
        return self.ringing_of(self.incoming_requests(agent))

    def incoming_requests(self, agent: AgentContext) -> Exchange:
        return self.client.send(
            "GET",
            with_query(f"{agent.session_url}/incomingRequests"),
            title=f"count chats ringing for the {agent.role} agent",
            headers=self.headers(agent),
        )

    @staticmethod
    def ringing_of(exchange: Exchange) -> int:
        """The ring count an incoming-requests read gives (0 when it gives none)."""
        if exchange.status != 200:
            return 0
        try:
            return int(exchange.json()["incomingRequests"]["ringingCount"])
        except (ValueError, KeyError, TypeError):
            return 0

    def take_chat(self, agent: AgentContext, setup: bool = True) -> str | None:
        """Take the next chat ringing for the agent; its chat id, or None if none was taken."""
        exchange = self.client.send(
            "POST",
            with_query(f"{agent.session_url}/incomingRequests"),
            title=f"the {agent.role} agent takes the next ringing chat",
            setup=setup,
            headers=self.headers(agent, content_type="json"),
            body=b"{}",
        )
        if exchange.status not in (200, 201):
            return None
        try:
            href = exchange.json()["chatLocation"]["link"]["@href"]
        except (ValueError, KeyError, TypeError):
            return None
        return href.split("?")[0].rstrip("/").rsplit("/", 1)[-1]

    def agent_chat(self, agent: AgentContext, chat_id: str, accept: str = "json") -> Exchange:
        return self.client.send(
            "GET",
            with_query(self.agent_chat_url(agent, chat_id)),
            title=f"the {agent.role} agent reads the chat ({accept})",
            headers=self.headers(agent, accept),
        )

    def agent_chats(self, agent: AgentContext, chat_ids: list[str]) -> Exchange:
        """Retrieve Data for Multiple Chats: several chats of the session in one read."""
        keys = quote(",".join(chat_ids), safe=",")
        return self.client.send(
            "GET",
            with_query(f"{agent.session_url}/chat", f"{QUERY}&chatSessionKeys={keys}"),
            title=f"the {agent.role} agent reads {len(chat_ids)} chats in one call",
            headers=self.headers(agent),
        )

    def chat_sessions(self, agent: AgentContext, accept: str = "json") -> Exchange:
        """Retrieve Chat Sessions: the chats the agent holds, for continuity."""
        return self.client.send(
            "GET",
            with_query(f"{agent.session_url}/chatSessions"),
            title=f"read the {agent.role} agent's chat sessions",
            headers=self.headers(agent, accept),
        )

    def agent_info(self, agent: AgentContext) -> Exchange:
        return self.client.send(
            "GET",
            with_query(f"{agent.session_url}/info"),
            title=f"read the {agent.role} agent's information",
            headers=self.headers(agent),
        )

    def agent_events(self, agent: AgentContext, chat_id: str, accept: str = "json") -> Exchange:
        return self.client.send(
            "GET",
            with_query(f"{self.agent_chat_url(agent, chat_id)}/events"),
            title=f"the {agent.role} agent reads the chat's events ({accept})",
            headers=self.headers(agent, accept),
        )

    def send_line(self, agent: AgentContext, chat_id: str, text: str) -> Exchange:
        return self.client.send(
            "POST",
            with_query(f"{self.agent_chat_url(agent, chat_id)}/events"),
            title=f"the {agent.role} agent sends a line",
            headers=self.headers(agent, content_type="json"),
            body=json_body({"event": {"@type": "line", "text": text, "textType": "plain"}}),
        )

    def events_page(self, href: str, agent: AgentContext | None) -> Exchange:
        """A later page of a chat's events (its `next` link), as the agent or the visitor reads it."""
        query = QUERY if agent is not None else self.visitor_query()
        return self.client.send(
            "GET",
            with_query(href.split("#")[0], query),
            title=f"the {agent.role + ' agent' if agent else 'visitor'} reads the next page of events",
            headers=self.headers(agent),
        )

    def visitor_chat(self, chat_id: str, accept: str = "json") -> Exchange:
        return self.client.send(
            "GET",
            f"{self.visitor_chat_url(chat_id)}?{self.visitor_query()}",
            title=f"the visitor reads the chat ({accept})",
            headers=self.headers(accept=accept),
        )

    def visitor_events(self, chat_id: str, accept: str = "json") -> Exchange:
        return self.client.send(
            "GET",
            f"{self.visitor_chat_url(chat_id)}/events?{self.visitor_query()}",
            title=f"the visitor reads the chat's events ({accept})",
            headers=self.headers(accept=accept),
        )

    def visitor_line(self, chat_id: str, text: str) -> Exchange:
        return self.client.send(
            "POST",
            f"{self.visitor_chat_url(chat_id)}/events?{self.visitor_query()}",
            title="the visitor sends a line",
            headers=self.headers(content_type="json"),
            body=json_body({"event": {"@type": "line", "text": text, "textType": "plain"}}),
        )

    def visitor_end(self, chat_id: str) -> Exchange:
        return self.client.send(
            "POST",
            f"{self.visitor_chat_url(chat_id)}/events?{self.visitor_query()}",
            title="the visitor ends the chat",
            setup=True,
            headers=self.headers(content_type="json"),
            body=json_body({"event": {"@type": "state", "state": "ended"}}),
        )

    # ------------------------------------------------------------------ transfer
    def available_skills(
        self, agent: AgentContext, chat_id: str, accept: str = "json", suffix: str = ""
    ) -> Exchange:
        url = with_query(f"{self.agent_chat_url(agent, chat_id)}/transfer{suffix}")
        return self.client.send(
            "GET",
            url,
            title=f"retrieve available skills ({suffix or accept})",
            headers=self.headers(agent, accept),
        )

    def transfer(
        self,
        agent: AgentContext,
        chat_id: str,
        body: bytes,
        content_type: str,
        title: str,
        bearer: str | None = None,
        accept: str = "json",
    ) -> Exchange:
        # bearer "" sends no Authorization at all (headers() leaves it out)
        headers = self.headers(agent, accept, content_type, bearer)
        return self.client.send(
            "POST",
            with_query(f"{self.agent_chat_url(agent, chat_id)}/transfer"),
            title=title,
            headers=headers,
            body=body,
        )
