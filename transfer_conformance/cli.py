"""`transfer-conformance`: the command table and `main`, the one place errors become exit codes.

Each command lives in `commands/<name>.py` with its parser and its body; see `commands.run`
for the exit codes every command shares.
"""

from __future__ import annotations

import argparse
import os
import sys

from reference_target.faults import UnknownFaultError
from transfer_conformance import __version__
from transfer_conformance.commands import (
    bench,
    cleanup,
    diff,
    discover,
    faults,
    file_regression,
    list_tests,
    replay,
    report,
    run,
    serve,
)
from transfer_conformance.errors import ConformanceError, ExitCode
from transfer_contract.catalogue import CatalogueError
from transfer_contract.tomlfile import TomlFileError

# In the order `--help` lists them.
COMMANDS = (run, serve, faults, report, file_regression, list_tests, bench, discover, replay, diff, cleanup)
# Errors of the lower layers (which know no exit codes) that mean a usage error.
USAGE_ERRORS = (CatalogueError, UnknownFaultError, TomlFileError)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="transfer-conformance",
        description="Contract and conformance suite for the Chat Agent API method Transfer a Chat.",
    )
    main.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = main.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
    return main


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        code = args.handler(args)
        sys.stdout.flush()
    except ConformanceError as error:
        print(f"{error.label}: {error}", file=sys.stderr)
        code = error.exit_code
    except USAGE_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        code = ExitCode.USAGE
    except BrokenPipeError:
        # The reader (`| head`) left: what is still buffered goes nowhere, without a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = ExitCode.OK
    sys.exit(code)


if __name__ == "__main__":
    main()
