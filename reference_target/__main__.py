"""`python -m reference_target`: the entry the embedded start uses (see server.py)."""

import argparse
import os
import sys
import threading
from pathlib import Path

from reference_target.faults import UnknownFaultError, parse_faults
from reference_target.seed import DEFAULT_SEED
from reference_target.server import serve


def exit_when_stdin_closes() -> None:
    """Whatever ends the process that started this one (a SIGKILL, a crash, a CI timeout), the
    kernel closes its end of our standard input: the read below then returns, and so do we.
    A server left listening after its run would hold a port and answer a later run."""

    def watch() -> None:
        while os.read(0, 4096):
            pass
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m reference_target")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fault", action="append", default=[])
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED)
    parser.add_argument(
        "--visitor-port", type=int, default=None, help="serve the visitor API on its own port (0: any)"
    )
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="exit when standard input closes (the embedded start holds it open while it lives)",
    )
    args = parser.parse_args()
    if args.exit_with_parent:
        exit_when_stdin_closes()
    try:
        faults = parse_faults(args.fault)
    except UnknownFaultError as error:
        sys.exit(f"error: {error}")
    serve(args.host, args.port, faults, args.seed, args.visitor_port)


if __name__ == "__main__":
    main()
