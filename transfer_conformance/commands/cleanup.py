"""`transfer-conformance cleanup --target NAME`: after a run that was killed, end the chats it
opened and never ended (its ledger in the run folder says which), set the profile's agents back
to the availability they had when that run logged them in, and log them out.

Only chats the suite opened are touched: the ledger lists them by id, and they are ended from the
visitor's side, where they are, ringing or held. Safe to run any time, twice, or after a run that
ended well (nothing is left then). The killed run's own logins cannot be logged out (their
tokens were never written anywhere); the target lets them lapse.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from transfer_conformance.errors import ExitCode
from transfer_conformance.paths import REPORTS
from transfer_conformance.plugin.options import base_url
from transfer_conformance.run import folder
from transfer_conformance.run.lanes import lane_folders
from transfer_conformance.run.ledger import LEDGER_FILE, read_leftovers
from transfer_conformance.target_api.api import ChatApi, client_for
from transfer_conformance.target_api.harness import Harness
from transfer_conformance.target_api.profile import TargetProfile, load_profile


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "cleanup",
        help="end the chats a killed run left open and log its agents out",
        description=__doc__.split("\n\n")[0].removeprefix("`transfer-conformance cleanup --target NAME`: "),
    )
    parser.add_argument("--target", default="reference", help="profile name in targets/ or a .toml path")
    parser.add_argument("--target-url", type=base_url, help="override every base URL of the profile")
    parser.add_argument(
        "--output", type=Path, default=REPORTS, help="the killed run's folder (default: reports/ here)"
    )
    parser.set_defaults(handler=command_cleanup)


def command_cleanup(args: argparse.Namespace) -> int:
    profile = load_profile(args.target)
    if args.target_url:
        profile.with_url(args.target_url)
    elif profile.embedded:
        print("nothing to clean up: the embedded reference ends with its run")
        return ExitCode.OK
    # A run in lanes left a ledger per lane, each on the agent set its lane used.
    ledgers = [
        (number, path)
        for number, path in [(0, args.output), *lane_folders(args.output)]
        if (path / LEDGER_FILE).is_file() and number < profile.agent_sets
    ]
    if not ledgers:
        print(f"nothing to clean up: no run recorded what it opened in {args.output}")
        return ExitCode.OK
    # A run still using the folder holds it: its chats are its own to end.
    with folder.held(args.output):
        for number, path in ledgers:
            if len(ledgers) > 1:
                print(f"{path} (agent set {number + 1}):")
            clean_up(profile.lane(number, 1), path)
    return ExitCode.OK


def clean_up(profile: TargetProfile, output: Path) -> int:
    leftovers = read_leftovers(output / LEDGER_FILE)
    if leftovers.empty:
        print(f"nothing to clean up: no run recorded what it opened in {output}")
        return ExitCode.OK
    harness = Harness(ChatApi(profile, client_for(profile)), profile.ids())
    try:
        harness.log_in_agents()
        ended = harness.end_leftovers(leftovers.chats)
        restored = []
        for role, state in leftovers.availability.items():
            agent = harness.agents.get(role)
            if agent is not None and harness.availability_of(agent) != state:
                harness.api.set_availability(agent, state)
                restored.append(f"{role} {state}")
    finally:
        harness.log_out()
    print(
        f"ended {ended} of {len(leftovers.chats)} chat(s) the run left open (the others had ended); "
        f"availability restored: {', '.join(restored) or 'none needed'}; agents logged out"
    )
    (output / LEDGER_FILE).unlink(missing_ok=True)
    return ExitCode.OK
