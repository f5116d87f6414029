"""How an agent logs in and out, in one place: the login, the agent session it opens, the
Authorization header every agent call carries, and the documented logout.

A new kind of agent login (another login call, a token from elsewhere) changes this module
alone: the harness asks `AgentAuth.log_in` for a logged-in agent and `log_out` to end it, and
every agent call takes its header from `authorization`.
"""

from __future__ import annotations

from dataclasses import dataclass

from transfer_conformance.http.client import Exchange, RecordingClient
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.target_api.calls import (
    MEDIA,
    SetupError,
    account_url,
    expect_status,
    json_body,
    with_query,
)
from transfer_conformance.target_api.profile import AgentLogin, TargetProfile, check_origin

# The shell variables that stand for each agent's bearer in curls, reports and replays.
BEARER_PLACEHOLDER = {
    "transferring": "$LP_BEARER",
    "receiving": "$LP_BEARER_RECEIVING",
    "away": "$LP_BEARER_AWAY",
}


@dataclass
class AgentContext:
    """A logged-in agent: its bearer, its agent session, and what its logout needs."""

    role: str
    login: AgentLogin
    bearer: str
    session_url: str
    # The login's Session_id cookie and csrf token, for the documented logout (empty if none).
    session_cookie: str = ""
    csrf: str = ""

    @property
    def session_id(self) -> str:
        return self.session_url.rstrip("/").rsplit("/", 1)[-1]


def authorization(bearer: str | None) -> dict[str, str]:
    """The Authorization header of an agent call; none for an empty or missing bearer."""
    return {"Authorization": f"Bearer {bearer}"} if bearer else {}


class AgentAuth:
    """Logs the profile's agents in (login, then an agent session) and out again."""

    def __init__(self, profile: TargetProfile, client: RecordingClient) -> None:
        self.profile = profile
        self.client = client
        # bearer -> (Session_id cookie, csrf) of the login that issued it
        self.login_cookies: dict[str, tuple[str, str]] = {}

    def log_in(self, login: AgentLogin) -> AgentContext:
        """The agent logged in with an agent session of its own."""
        return self.start_session(login, self.login(login))

    def login(self, login: AgentLogin) -> str:
        """Log in (the Login page); the bearer, registered as a secret with its placeholder."""
        url = f"{account_url(self.profile.login_url, self.profile.account_id)}/login?v=1.3"
        exchange = self.client.send(
            "POST",
            url,
            title=f"log in as the {login.role} agent",
            setup=True,
            headers={"Accept": MEDIA["json"], "Content-Type": MEDIA["json"]},
            body=json_body({"username": login.username, "password": login.password}),
        )
        expect_status(exchange, 200)
        try:
            bearer = str(exchange.json()["bearer"])
        except (ValueError, KeyError, TypeError):
            raise SetupError(f"login of the {login.role} agent returned no bearer") from None
        REGISTRY.register(bearer, BEARER_PLACEHOLDER[login.role])
        cookie = exchange.cookies.get("Session_id", "")
        try:
            csrf = str(exchange.json().get("csrf") or "")
        except (ValueError, AttributeError):
            csrf = ""
        role = login.role.upper()
        REGISTRY.register(cookie, f"$LP_SESSION_ID_{role}")
        REGISTRY.register(csrf, f"$LP_CSRF_{role}")
        self.login_cookies[bearer] = (cookie, csrf)
        return bearer

    def start_session(self, login: AgentLogin, bearer: str) -> AgentContext:
        """Start an agent session with ``bearer``, following its link only within the origins."""
        url = with_query(f"{account_url(self.profile.base_url, self.profile.account_id)}/agentSession")
        exchange = self.client.send(
            "POST",
            url,
            title=f"start an agent session for the {login.role} agent",
            setup=True,
            headers={"Accept": MEDIA["json"], "Content-Type": MEDIA["json"], **authorization(bearer)},
            body=json_body({"loginData": ""}),
        )
        expect_status(exchange, 200, 201)
        try:
            href = str(exchange.json()["agentSessionLocation"]["link"]["@href"])
        except (ValueError, KeyError, TypeError):
            raise SetupError("start agent session returned no agentSessionLocation link") from None
        check_origin(self.profile, href, "the agentSessionLocation link")
        cookie, csrf = self.login_cookies.get(bearer, ("", ""))
        return AgentContext(login.role, login, bearer, href.split("?")[0], cookie, csrf)

    def logout(self, agent: AgentContext) -> Exchange:
        """Log out as the Logout page documents (the Session_id cookie and a csrf body), or by
        the bearer where the profile says so or the login set no cookie."""
        url = f"{account_url(self.profile.login_url, self.profile.account_id)}/logout"
        title = f"log the {agent.role} agent out"
        headers = {"Accept": MEDIA["json"]}
        if self.profile.logout == "cookie" and agent.session_cookie:
            headers.update({"Content-Type": MEDIA["json"], "Cookie": f"Session_id={agent.session_cookie}"})
            body = json_body({"csrf": agent.csrf})
            return self.client.send("POST", url, title=title, headers=headers, body=body, setup=True)
        headers.update(authorization(agent.bearer))
        return self.client.send("POST", url, title=title, headers=headers, setup=True)
