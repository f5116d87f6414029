"""Target profiles (targets/*.toml): where a target is, who logs in, which ids to use, and
what it answers where the docs are silent."""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from transfer_conformance.errors import ConfigError
from transfer_conformance.http.client import TargetMisbehaved
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.paths import LOCAL_TARGETS
from transfer_contract.catalogue import Rule, is_status_key, rules
from transfer_contract.paths import TARGETS
from transfer_contract.tomlfile import TomlFileError, read_toml
from transfer_contract.transfer_body import Ids

ROLES = ("transferring", "receiving", "away")
SKILL_KEYS = ("available", "unavailable", "unknown", "unknown_agent")


@dataclass(frozen=True)
class AgentLogin:
    role: str
    username: str
    password: str
    id: str


@dataclass
class TargetProfile:
    name: str
    source: str
    embedded: bool
    base_url: str
    login_url: str
    visitor_url: str
    account_id: str
    visitor_app_key: str
    visitor_skill: str
    agents: dict[str, AgentLogin]
    skills: dict[str, str]
    request_timeout_s: float = 10.0
    requests_per_second: float = 0
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_response_bytes: int = 8 * 1024 * 1024
    retry_after_cap_s: float = 30.0
    retry_budget_s: float = 120.0
    test_timeout_s: float = 120.0
    max_time_s: float = 1800.0
    # Requests a test may have in flight at once (independent reads, set-up and clean-up).
    concurrency: int = 4
    # How the suite logs out: "cookie" (the documented Session_id and csrf) or "bearer".
    logout: str = "cookie"
    # Origins (scheme://host:port) beyond the profile's own URLs that links may point to.
    extra_origins: tuple[str, ...] = ()
    # Further agent sets ([[lanes]]): each lets a run test side by side on agents of its own.
    lanes: list[Lane] = field(default_factory=list)

    @property
    def agent_sets(self) -> int:
        """How many agent sets the profile declares: its own and one per [[lanes]] table."""
        return 1 + len(self.lanes)

    def lane(self, number: int, of: int) -> TargetProfile:
        """The profile as lane ``number`` (0: the profile's own agents) of ``of`` lanes sees
        it: that lane's agents, skills and visitor skill, and a share of the rate limit."""
        profile = copy.copy(self)
        if number:
            chosen = self.lanes[number - 1]
            profile.agents = dict(chosen.agents)
            profile.skills = {**self.skills, **chosen.skills}
            profile.visitor_skill = chosen.visitor_skill
        profile.requests_per_second = self.requests_per_second / of
        profile.lanes = []
        return profile

    def origins(self) -> set[str]:
        """Every origin the suite may send a request to, credentials included."""
        urls = [self.base_url, self.login_url, self.visitor_url, *self.extra_origins]
        return {origin_of(url) for url in urls if url}

    def decision(self, rule_id: str) -> dict[str, Any]:
        """What this target is expected to do for a decision: rules.yaml, then the profile."""
        rule = rules()[rule_id]
        if rule.kind != "decision":
            raise KeyError(f"{rule_id} is not a decision; MUST rules never read a profile")
        return {**rule.expect, **self.decisions.get(rule_id, {})}

    def ids(self) -> Ids:
        """The concrete ids behind the strategies' symbolic references."""
        return Ids.of({role: login.id for role, login in self.agents.items()}, self.skills)

    def with_url(self, url: str) -> TargetProfile:
        """The profile with every base URL (agent, login, visitor) replaced by ``url``."""
        url = check_url(url, "--target-url")
        self.base_url = self.login_url = self.visitor_url = url
        self.embedded = False
        return self


@dataclass(frozen=True)
class Lane:
    """An agent set of its own ([[lanes]] in a profile): the agents a lane logs in, the skills
    that are theirs, and the skill its visitors ask for (only its transferring agent has it).
    Skills it does not name (unavailable, unknown ids) are the profile's."""

    agents: dict[str, AgentLogin]
    skills: dict[str, str]
    visitor_skill: str


def origin_of(url: str) -> str:
    """scheme://host:port, with the scheme's default port made explicit."""
    parsed = urlparse(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return f"{parsed.scheme}://{(parsed.hostname or '').lower()}:{port}"


def check_origin(profile: TargetProfile, url: str, what: str) -> None:
    """Stop before following a link the target gave outside the profile's origins (scheme,
    host and port: https is never downgraded); no credential is ever sent there."""
    allowed = profile.origins()
    if origin_of(url) not in allowed:
        raise TargetMisbehaved(
            f"{what} {REGISTRY.mask(url)!r} is outside the profile's origins "
            f"({', '.join(sorted(allowed))}); not followed, no credential sent to it. "
            "If it is right, add its origin to the profile's origins list."
        )


# Limits a profile may set: (default, lowest, highest). Out of range or of the wrong type is a
# configuration error naming the key (exit 2), never a traceback or a run that cannot work.
LIMITS: dict[str, tuple[float, float, float]] = {
    "request_timeout_s": (10, 0.1, 600),
    "requests_per_second": (0, 0, 10_000),
    "max_response_bytes": (8 * 1024 * 1024, 1024, 1024**3),
    "retry_after_cap_s": (30, 0, 3600),
    "retry_budget_s": (120, 0, 86_400),
    "test_timeout_s": (120, 1, 86_400),
    "max_time_s": (1800, 1, 7 * 86_400),
    # A polite default: a test's independent reads overlap, four at a time at most.
    "concurrency": (4, 1, 32),
}
# Limits that count things: whole numbers only.
WHOLE_LIMITS = {"max_response_bytes", "concurrency"}


def limit(data: dict[str, Any], key: str, where: str) -> float:
    default, lowest, highest = LIMITS[key]
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: {key} must be a number, not {value!r}")
    if key in WHOLE_LIMITS and value != int(value):
        raise ConfigError(f"{where}: {key} must be a whole number, not {value!r}")
    if not lowest <= value <= highest:
        raise ConfigError(f"{where}: {key} must be between {lowest:g} and {highest:g}, not {value!r}")
    return float(value)


# The keys a profile may have, table by table; anything else is a typo (exit 2, naming the
# closest key), never a setting silently ignored.
TOP_KEYS = {
    "name",
    "description",
    "embedded",
    "base_url",
    "login_url",
    "visitor_url",
    "account_id",
    "visitor_app_key",
    "visitor_app_key_env",
    "visitor_skill",
    "logout",
    "origins",
    "agents",
    "skills",
    "decisions",
    "lanes",
    # the embedded reference's seed (its own loader checks it)
    "reference",
    *LIMITS,
}
AGENT_KEYS = {"username", "password", "password_env", "id"}
OPTIONAL_SKILL_KEYS = ("only_transferring", "second_available")
# What a lane sets: its agents' skills (the account's unavailable and unknown ids are shared).
LANE_SKILL_KEYS = ("available", *OPTIONAL_SKILL_KEYS)
LANE_KEYS = {"agents", "skills", "visitor_skill"}


def check_keys(table: dict[str, Any], allowed: Iterable[str], where: str) -> None:
    """Refuse a key that is not ``allowed``, naming the closest one that is."""
    allowed = sorted(allowed)
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(allowed)})"
            raise ConfigError(f"{where}: unknown key {key!r}{hint}")


def check_setting(rule: Rule, key: str, value: Any, where: str) -> None:
    """A decision setting of the type (and, for words, of the values) the decision takes."""
    name = f'{where} [decisions."{rule.id}"] {key}'
    default = rule.expect.get(key)
    if key == "skip":
        if not (isinstance(value, str) and value.strip()):
            raise ConfigError(f"{name} must say why (a non-empty string)")
    elif is_status_key(key):
        if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
            raise ConfigError(f"{name} must be an HTTP status (100 to 599), not {value!r}")
    elif key.startswith("max_"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number of 1 or more, not {value!r}")
    elif isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false, not {value!r}")
    elif key in rule.values and value not in rule.values[key]:
        words = ", ".join(f'"{word}"' for word in rule.values[key])
        raise ConfigError(f"{name} must be one of {words}, not {value!r}")


def check_decisions(decisions: Any, where: str) -> dict[str, dict[str, Any]]:
    """The [decisions] table: tables of known decision rules, each with the settings that
    decision takes (its `expect` keys, or `skip`), of the right type and values."""
    if not isinstance(decisions, dict):
        raise ConfigError(f"{where}: [decisions] must be a table")
    known = [rule_id for rule_id, rule in rules().items() if rule.kind == "decision"]
    check_keys(decisions, known, f"{where} [decisions]")
    for rule_id, entry in decisions.items():
        if not isinstance(entry, dict):
            raise ConfigError(f'{where}: [decisions."{rule_id}"] must be a table')
        rule = rules()[rule_id]
        check_keys(entry, [*rule.expect, "skip"], f'{where} [decisions."{rule_id}"]')
        for key, value in entry.items():
            check_setting(rule, key, value, where)
    return decisions


def check_url(url: str, where: str) -> str:
    """A base URL: http(s) and a host, no path (the suite adds the documented paths)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL")
    if parsed.path.strip("/") or parsed.query:
        raise ConfigError(
            f"{where}: {url!r} has a path: give the base URL alone ({parsed.scheme}://{parsed.netloc})"
        )
    return url.rstrip("/")


def profile_path(target: str) -> Path:
    """A profile by path, or by name: the working directory's targets/ first (``staging``),
    then the shipped ones (``reference``, ``variants/docs-order``)."""
    candidates = [Path(target)] + [
        folder / name for folder in (LOCAL_TARGETS, TARGETS) for name in (target, f"{target}.toml")
    ]
    path = next((c for c in candidates if c.suffix == ".toml" and c.is_file()), candidates[-1])
    if not path.is_file():
        names = {p.stem for folder in (LOCAL_TARGETS, TARGETS) for p in folder.glob("*.toml")}
        known = ", ".join(sorted(names))
        raise ConfigError(f"no target profile {target!r} (known: {known}; or give a .toml path)")
    return path


class Secrets:
    """The profile's secrets, read from the environment; every missing variable is named at once."""

    def __init__(self, where: str, allow_inline: bool) -> None:
        self.where = where
        self.allow_inline = allow_inline
        self.missing: list[str] = []

    def read(self, table: dict[str, Any], key: str, where: str) -> str:
        env_name = table.get(f"{key}_env")
        if env_name:
            value = os.environ.get(str(env_name), "")
            if not value:
                self.missing.append(f"{env_name} ({where} {key})")
            return value
        if key in table:
            if not self.allow_inline:
                raise ConfigError(
                    f'{where}: {key} must come from an environment variable ({key}_env = "NAME"), '
                    "not from the file"
                )
            return str(table[key])
        raise ConfigError(f"{where}: {key}_env is missing")

    def check(self) -> None:
        if self.missing:
            raise ConfigError(f"{self.where}: environment variables not set: {'; '.join(self.missing)}")


def load_profile(target: str) -> TargetProfile:
    path = profile_path(target)
    try:
        data = read_toml(path)
    except TomlFileError as exc:
        raise ConfigError(str(exc)) from None
    embedded = bool(data.get("embedded", False))
    # Only the embedded simulator's own profile may keep secrets in the file.
    inline = embedded
    where = path.name
    secrets = Secrets(where, inline)
    try:
        check_keys(data, TOP_KEYS, where)
        agents = agent_logins(data.get("agents", {}), secrets, where)
        check_keys(data.get("skills", {}), (*SKILL_KEYS, *OPTIONAL_SKILL_KEYS), f"{where} [skills]")
        skills = {key: str(value) for key, value in data.get("skills", {}).items()}
        missing = [key for key in SKILL_KEYS if key not in skills]
        if missing:
            raise ConfigError(f"{where}: [skills] lacks {', '.join(missing)}")
        base_url = "" if embedded else check_url(str(data.get("base_url", "")), f"{where} base_url")
        decisions = check_decisions(data.get("decisions", {}), where)
        extra = data.get("origins", [])
        if not isinstance(extra, list) or not all(isinstance(url, str) for url in extra):
            raise ConfigError(f"{where}: origins must be a list of URLs")
        limits = {key: limit(data, key, where) for key in LIMITS}
        logout = data.get("logout", "cookie")
        if logout not in ("cookie", "bearer"):
            raise ConfigError(f'{where}: logout must be "cookie" or "bearer", not {logout!r}')
        profile = TargetProfile(
            name=str(data.get("name", path.stem)),
            source=str(path),
            embedded=embedded,
            base_url=base_url,
            login_url=check_url(data["login_url"], f"{where} login_url")
            if data.get("login_url")
            else base_url,
            visitor_url=check_url(data["visitor_url"], f"{where} visitor_url")
            if data.get("visitor_url")
            else base_url,
            account_id=str(data["account_id"]),
            visitor_app_key=secrets.read(data, "visitor_app_key", where),
            visitor_skill=str(data["visitor_skill"]),
            agents=agents,
            skills=skills,
            decisions=decisions,
            request_timeout_s=limits["request_timeout_s"],
            requests_per_second=limits["requests_per_second"],
            max_response_bytes=int(limits["max_response_bytes"]),
            retry_after_cap_s=limits["retry_after_cap_s"],
            retry_budget_s=limits["retry_budget_s"],
            test_timeout_s=limits["test_timeout_s"],
            max_time_s=limits["max_time_s"],
            concurrency=int(limits["concurrency"]),
            extra_origins=tuple(check_url(url, f"{where} origins") for url in extra),
            logout=logout,
        )
        profile.lanes = lanes_of(data.get("lanes", []), profile, secrets, where)
    except KeyError as exc:
        raise ConfigError(f"{where}: required key {exc.args[0]!r} is missing") from None
    except (TypeError, AttributeError) as exc:
        # A table where a value belongs, or the reverse ([agents] = "x").
        raise ConfigError(f"{where}: a key has a value of the wrong kind ({exc})") from None
    secrets.check()
    register_secrets(profile)
    return profile


def agent_logins(tables: Any, secrets: Secrets, where: str) -> dict[str, AgentLogin]:
    """The [agents] tables of a profile or a lane: transferring and receiving, and away if given."""
    check_keys(tables, ROLES, f"{where} [agents]")
    agents = {}
    for role in ROLES:
        table = tables.get(role)
        if table is None:
            if role == "away":
                continue
            raise ConfigError(f"{where}: [agents.{role}] is missing")
        check_keys(table, AGENT_KEYS, f"{where} [agents.{role}]")
        agents[role] = AgentLogin(
            role=role,
            username=str(table["username"]),
            password=secrets.read(table, "password", f"{where} [agents.{role}]"),
            id=str(table["id"]),
        )
    return agents


def lanes_of(tables: Any, profile: TargetProfile, secrets: Secrets, where: str) -> list[Lane]:
    """The [[lanes]] of a profile. Lanes run at once, so no two agent sets may share an agent,
    a skill of their own or a visitor skill: a chat of one would reach another's agents."""
    if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
        raise ConfigError(f"{where}: lanes must be a list of tables ([[lanes]])")
    lanes = []
    for number, table in enumerate(tables, start=1):
        here = f"{where} [[lanes]] #{number}"
        check_keys(table, LANE_KEYS, here)
        skills = table.get("skills", {})
        check_keys(skills, LANE_SKILL_KEYS, f"{here} [skills]")
        if "available" not in skills or "visitor_skill" not in table:
            raise ConfigError(f"{here}: a lane names its own visitor_skill and [skills] available")
        lanes.append(
            Lane(
                agents=agent_logins(table.get("agents", {}), secrets, here),
                skills={key: str(value) for key, value in skills.items()},
                visitor_skill=str(table["visitor_skill"]),
            )
        )
    sets = [("the profile's own agents", profile.agents, profile.skills, profile.visitor_skill)]
    sets += [(f"lane #{n}", lane.agents, lane.skills, lane.visitor_skill) for n, lane in enumerate(lanes, 1)]
    seen: dict[str, str] = {}
    for name, agents, skills, visitor_skill in sets:
        owned = [f"agent {login.username}" for login in agents.values()]
        owned += [f"agent id {login.id}" for login in agents.values()]
        owned += [f"skill {skills[key]}" for key in LANE_SKILL_KEYS if key in skills]
        owned += [f"visitor skill {visitor_skill}"]
        for thing in owned:
            if thing in seen and seen[thing] != name:
                raise ConfigError(
                    f"{where}: {seen[thing]} and {name} share {thing}: lanes run at once, and a "
                    "chat of one would reach the other's agents"
                )
            seen[thing] = name
    return lanes


def register_secrets(profile: TargetProfile) -> None:
    REGISTRY.register(profile.visitor_app_key, "$LP_APP_KEY")
    for number, agents in enumerate([profile.agents, *(lane.agents for lane in profile.lanes)]):
        suffix = f"_{number + 1}" if number else ""
        for login in agents.values():
            REGISTRY.register(login.password, f"$LP_PASSWORD_{login.role.upper()}{suffix}")
