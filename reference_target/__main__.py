"""`python -m reference_target`: the entry the embedded start uses (see server.py)."""

import argparse
import sys
from pathlib import Path

from reference_target.faults import UnknownFaultError, parse_faults
from reference_target.seed import DEFAULT_SEED
from reference_target.server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m reference_target")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED)
    parser.add_argument(
        "--visitor-port", type=int, default=None, help="serve the visitor API on its own port (0: any)"
    )
    args = parser.parse_args()
    try:
        faults = parse_faults(args.fault)
    except UnknownFaultError as error:
        sys.exit(f"error: {error}")
    serve(args.host, args.port, faults, args.seed, args.visitor_port)


if __name__ == "__main__":
    main()
