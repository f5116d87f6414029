"""`transfer-conformance replay TEST|RULE`: re-send a failing example's requests, in order,
against any target, and say whether the failure reproduces.

The requests come from the run's summary (the failing example's, masked). The target gets a
fresh set-up (its own logins, sessions and chats), so the requests are rewritten as they go:
placeholders become this run's bearers and app key, the old origin this target's, the old
session ids the new sessions of the same agents, and each chat id the one this target gave
when the replayed requests created or took it. The failure reproduces when every request
meets the status it met in the failing run.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlparse

from reference_target.faults import parse_faults
from transfer_conformance.errors import ExitCode, UsageError
from transfer_conformance.paths import REPORTS
from transfer_conformance.run.summary import RecordedExchange, Result, RunSummary
from transfer_conformance.target_api.api import ChatApi, client_for, start_embedded
from transfer_conformance.target_api.auth import BEARER_PLACEHOLDER
from transfer_conformance.target_api.harness import Harness
from transfer_conformance.target_api.profile import load_profile

SESSION_ID = re.compile(r"/agentSession/([^/?#]+)")
CHAT_ID = re.compile(r"/chat/([^/?#.]+)")
NOT_CHATS = {"request", "availability", "availableSlots"}


class ReplayError(UsageError):
    """No failed test matches, or the run holds no requests to replay."""


@dataclass
class Step:
    title: str
    method: str
    recorded: int | None
    replayed: int | None

    @property
    def same(self) -> bool:
        return self.recorded == self.replayed


def failing_result(run_folder: Path, wanted: str) -> tuple[RunSummary, Result]:
    """The run in ``run_folder`` and its failed result that ``wanted`` (a test id, its end, or a
    rule) names, with its recorded requests."""
    summary = RunSummary.of_run(run_folder)
    for result in summary.failed():
        if result.named_by(wanted):
            if not result.exchanges:
                raise ReplayError(f"{result.nodeid} failed, but its requests were not recorded")
            return summary, result
    known = ", ".join(sorted({r.rule or r.nodeid for r in summary.failed()})) or "none"
    raise ReplayError(f"no failed test or rule {wanted!r} in that run (failed: {known})")


def replay_target(summary: RunSummary, args: argparse.Namespace) -> tuple[str, str | None, list[str]]:
    """Where to replay: what the command line names, else the run's own target (its profile,
    its --target-url, the faults its embedded reference had): (profile, URL, faults)."""
    if args.target or args.target_url:
        return args.target or "reference", args.target_url, list(args.fault)
    recorded = summary.target
    return (
        recorded.profile_file or recorded.name or "reference",
        recorded.url_override or None,
        summary.faults,
    )


class Rewriter:
    """Maps what the failing run used onto what this target gives."""

    def __init__(self, harness: Harness) -> None:
        profile = harness.profile
        self.secrets = {
            placeholder: harness.agents[role].bearer
            for role, placeholder in BEARER_PLACEHOLDER.items()
            if role in harness.agents
        }
        self.secrets["$LP_APP_KEY"] = quote(profile.visitor_app_key, safe="")
        self.sessions_by_bearer = {
            placeholder: harness.agents[role].session_id
            for role, placeholder in BEARER_PLACEHOLDER.items()
            if role in harness.agents
        }
        self.origins = {"agent": profile.base_url, "visitor": profile.visitor_url}
        self.chats: dict[str, str] = {}
        self.sessions: dict[str, str] = {}

    def learn_session(self, url: str, headers: dict[str, str]) -> None:
        found = SESSION_ID.search(url)
        bearer = next((v.split()[-1] for k, v in headers.items() if k.lower() == "authorization"), "")
        if found and bearer in self.sessions_by_bearer:
            self.sessions.setdefault(found.group(1), self.sessions_by_bearer[bearer])

    def learn_chat(self, old: str, new: str) -> None:
        old_id, new_id = chat_of(old), chat_of(new)
        if old_id and new_id:
            self.chats[old_id] = new_id

    def text(self, value: str) -> str:
        for placeholder in sorted(self.secrets, key=len, reverse=True):
            value = value.replace(placeholder, self.secrets[placeholder])
        for old, new in (*self.sessions.items(), *self.chats.items()):
            value = value.replace(old, new)
        return value

    def url(self, value: str) -> str:
        parsed = urlparse(value)
        side = (
            "agent"
            if "/agentSession" in parsed.path or parsed.path.endswith(("/login", "/logout"))
            else "visitor"
        )
        base = self.origins[side].rstrip("/")
        return self.text(base + value[len(f"{parsed.scheme}://{parsed.netloc}") :])


def chat_of(url_or_location: str) -> str:
    ids = [chat for chat in CHAT_ID.findall(url_or_location or "") if chat not in NOT_CHATS]
    return ids[-1] if ids else ""


def replay(harness: Harness, exchanges: list[RecordedExchange]) -> list[Step]:
    rewriter = Rewriter(harness)
    client = harness.api.client
    steps = []
    for recorded in exchanges:
        headers = {
            k: v for k, v in recorded.request_headers.items() if k.lower() not in ("content-length", "host")
        }
        rewriter.learn_session(recorded.url, headers)
        body = recorded.request_body.encode("utf-8") if recorded.request_body else None
        answer = client.send(
            recorded.method,
            rewriter.url(recorded.url),
            title=f"replay: {recorded.title}",
            headers={k: rewriter.text(v) for k, v in headers.items()},
            body=rewriter.text(body.decode("utf-8")).encode("utf-8") if body else None,
        )
        old_location = recorded.response_headers.get("location", "") or recorded.response_body
        new_location = answer.response_headers.get("location", "") or answer.response_body
        rewriter.learn_chat(old_location, new_location)
        if chat_of(answer.url) and chat_of(recorded.url) not in rewriter.chats:
            harness.created.append(chat_of(answer.url))
        if "/chat/request" in recorded.url and chat_of(new_location):
            harness.created.append(chat_of(new_location))
        steps.append(Step(recorded.title, recorded.method, recorded.status, answer.status))
    return steps


def report(result: Result, steps: list[Step]) -> tuple[str, bool]:
    reproduces = bool(steps) and all(step.same for step in steps)
    lines = [f"replaying {result.nodeid} ({result.rule}): {len(steps)} requests"]
    for step in steps:
        mark = "same" if step.same else "DIFFERENT"
        lines.append(f"  {step.method:6} {step.title[:70]:70} {step.recorded} -> {step.replayed}  {mark}")
    verdict = "the failure REPRODUCES" if reproduces else "the failure does not reproduce"
    return "\n".join([*lines, verdict]), reproduces


def run_replay(harness: Harness, result: Result) -> int:
    """Replay ``result`` (failing_result) against the harness's target, set up already; a
    target that does not answer raises TargetUnreachable (broken, not a usage error)."""
    try:
        steps = replay(harness, result.exchanges)
    finally:
        harness.clean_up()
    text, reproduces = report(result, steps)
    print(text)
    return ExitCode.VIOLATION if reproduces else ExitCode.OK


def register(commands: argparse._SubParsersAction) -> None:
    replay = commands.add_parser("replay", help="re-send a failing example's requests to a target")
    replay.add_argument("test", help="the failed test's id (or its end) or rule")
    replay.add_argument("--output", type=Path, default=REPORTS, help="the run folder (default reports)")
    replay.add_argument(
        "--target", default=None, help="profile name or .toml path (default: the run's own target)"
    )
    replay.add_argument(
        "--target-url", default=None, help="override every base URL (default: the run's own --target-url)"
    )
    replay.add_argument(
        "--fault",
        action="append",
        default=[],
        help="with --target: plant this fault in the embedded reference (default: the run's own faults)",
    )
    replay.set_defaults(handler=command_replay)


def command_replay(args: argparse.Namespace) -> int:
    # What to replay first: a folder without that failure needs no target set up.
    summary, result = failing_result(args.output, args.test)
    target, url, faults = replay_target(summary, args)
    profile = load_profile(target)
    if url:
        profile.with_url(url)
    if result.lane:
        if result.lane >= profile.agent_sets:
            raise UsageError(
                f"{result.nodeid} ran in lane {result.lane + 1}, and {profile.name} declares "
                f"{profile.agent_sets} agent set(s): replay needs that lane's agents"
            )
        # the agents the example ran with: their ids and skills are in its requests
        profile = profile.lane(result.lane, 1)
    embedded = start_embedded(profile, parse_faults(faults)) if profile.embedded and not url else None
    where = "the embedded reference" + (f" with {', '.join(faults)}" if faults else "")
    print(f"target {profile.name} ({profile.base_url if not embedded else where})")
    try:
        harness = Harness(ChatApi(profile, client_for(profile)), profile.ids())
        try:
            harness.bring_agents_online()
            return run_replay(harness, result)
        finally:
            harness.log_out()
    finally:
        if embedded is not None:
            embedded.stop()
