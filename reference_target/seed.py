"""Build the simulator's world from targets/reference.toml (its seed and its suite profile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reference_target.dialect import Dialect
from reference_target.faults import FaultName
from reference_target.state import Agent, Limits, World
from transfer_contract.paths import REFERENCE_SEED
from transfer_contract.tomlfile import read_toml

DEFAULT_SEED = REFERENCE_SEED


def load_seed(path: Path = DEFAULT_SEED) -> dict[str, Any]:
    return read_toml(path)


def build_world(
    seed: dict[str, Any], faults: frozenset[FaultName] = frozenset(), limits: Limits | None = None
) -> World:
    """The world the seed describes; ``limits`` replaces the seed's [reference] limits."""
    reference = seed["reference"]
    logins = {str(entry["id"]): (entry["username"], entry["password"]) for entry in seed["agents"].values()}
    agents = []
    for agent_id, entry in reference["agents"].items():
        username, password = logins.get(agent_id, (entry.get("username"), entry.get("password")))
        agents.append(
            Agent(
                id=agent_id,
                username=username,
                password=password,
                nickname=entry["nickname"],
                skills=tuple(str(skill) for skill in entry["skills"]),
                max_chats=int(entry["max_chats"]),
            )
        )
    limits = limits or Limits(
        **{
            key: float(reference[key])
            for key in (
                "session_idle_s",
                "bearer_idle_s",
                "chat_idle_s",
                "ended_chat_retention_s",
                "accept_timeout_s",
            )
            if key in reference
        },
        max_body_bytes=int(reference["max_body_bytes"]),
    )
    return World(
        account_id=str(seed["account_id"]),
        visitor_app_key=seed["visitor_app_key"],
        agents=agents,
        skill_names={str(k): v for k, v in reference["skill_names"].items()},
        limits=limits,
        faults=faults,
        dialect=Dialect.from_table(reference.get("dialect", {})),
    )
