"""`serve`: the reference target on its own, for a browser, curl, or `run --target-url`."""

from __future__ import annotations

import argparse
from pathlib import Path

from reference_target.faults import parse_faults
from reference_target.server import serve
from transfer_conformance.errors import ExitCode, UsageError
from transfer_contract.paths import TARGETS


def port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0 to 65535; 0 picks a free one)")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="run the reference target standalone")
    parser.add_argument("--port", type=port, required=True, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument(
        "--visitor-port", type=port, default=None, help="serve the visitor API on its own port (0: any)"
    )
    parser.add_argument(
        "--seed",
        type=Path,
        default=TARGETS / "reference.toml",
        help="seed file (targets/reference.toml, or a variant in targets/variants/)",
    )
    parser.set_defaults(handler=command_serve)


def command_serve(args: argparse.Namespace) -> int:
    faults = parse_faults(args.fault)
    try:
        serve(args.host, args.port, faults, args.seed, args.visitor_port)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    except KeyboardInterrupt:
        pass
    return ExitCode.OK
