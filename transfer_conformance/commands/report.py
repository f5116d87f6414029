"""`report`: build the last run's HTML report again, open it, or serve it on 127.0.0.1."""

from __future__ import annotations

import argparse

from transfer_conformance.errors import ExitCode
from transfer_conformance.run.known_issues import add_run_folder_arguments, load_known_issues
from transfer_conformance.run.report import generate_report, open_report
from transfer_conformance.run.summary import RESULTS_FOLDER, SUMMARY_FILE, RunSummary


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("report", help="generate, open or serve the last run's report")
    parser.add_argument("action", nargs="?", default="generate", choices=("generate", "open", "serve"))
    parser.add_argument("--single-file", action="store_true", help="one HTML file for a ticket")
    add_run_folder_arguments(parser)
    parser.set_defaults(handler=command_report)


def command_report(args: argparse.Namespace) -> int:
    root = args.output
    if args.action == "generate":
        summary = RunSummary.load(root / SUMMARY_FILE) or RunSummary()
        known = load_known_issues(args.known_issues)
        print(generate_report(root / RESULTS_FOLDER, summary, args.single_file, root, known=known))
        return ExitCode.OK
    return open_report(args.action, root)
