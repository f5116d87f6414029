"""`faults`: the reference's fault catalogue, one tab-separated line a fault (name, rule, what)."""

from __future__ import annotations

import argparse

from reference_target.faults import FAULTS
from transfer_conformance.errors import ExitCode


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("faults", help="list the fault catalogue (name, rule, description)")
    parser.set_defaults(handler=command_faults)


def command_faults(args: argparse.Namespace) -> int:
    for fault in FAULTS:
        print(f"{fault.name}\t{fault.rule}\t{fault.description}")
    return ExitCode.OK
