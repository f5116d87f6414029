"""`transfer-conformance`: run the suite, serve the reference target, list faults, reports, bench.

Exit codes of `run`: 0 conformant, 1 a rule violated (even if some results are also broken),
2 usage or configuration error, 3 the target unreachable or set-up broken (or results broken
with no violation: nothing proves conformance then).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import secrets
import shutil
import signal
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from reference_target.faults import FAULTS, UnknownFaultError, parse_faults
from reference_target.server import serve
from transfer_conformance.commands.bench import run_bench
from transfer_conformance.commands.diff import DiffError, run_diff, run_targets
from transfer_conformance.commands.discover import DiscoverError, run_discover
from transfer_conformance.commands.file_regression import regression_bodies
from transfer_conformance.commands.list_tests import LIST, conformance_list
from transfer_conformance.commands.replay import ReplayError, failing_result, run_replay
from transfer_conformance.http.client import TargetUnreachable
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.paths import REPORTS, SUITES
from transfer_conformance.run.known_issues import load_known_issues
from transfer_conformance.run.report import (
    ReportError,
    generate_report,
    open_report,
    redact_file,
    redact_tree,
)
from transfer_conformance.run.summary import (
    PREVIOUS_FILE,
    RUN_PROFILES,
    SUMMARY_FILE,
    ExitCode,
    NoRunError,
    RunSummary,
)
from transfer_conformance.target.api import ChatApi, SetupError, client_for, start_embedded
from transfer_conformance.target.harness import Harness
from transfer_conformance.target.profile import ConfigError, load_profile
from transfer_contract.catalogue import CatalogueError, rules
from transfer_contract.paths import TARGETS


class UsageError(Exception):
    pass


# ---------------------------------------------------------------------- run
def first_seen(summary: RunSummary, previous_path: Path) -> dict[str, float]:
    """When each failing test started failing, carried over while it keeps failing."""
    previous = RunSummary.load(previous_path)
    earlier = previous.first_seen if previous else {}
    return {result.nodeid: earlier.get(result.nodeid, result.finished) for result in summary.failed()}


def pytest_arguments(args: argparse.Namespace, results: Path, summary: Path) -> list[str]:
    arguments = [
        str(SUITES),
        "-p",
        "no:cacheprovider",
        # Schemathesis is used as a library here; its pytest plugin blanks Hypothesis'
        # failing-example values in reports, so it stays off.
        "-p",
        "no:schemathesis",
        # The CLI imported Hypothesis (profiles build their ids with it) before pytest started:
        # its plugins' asserts cannot be rewritten, which the suite never relies on.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        # Suites judge through check(), never a bare assert: rewriting them costs seconds.
        "--assert=plain",
        "--rootdir",
        str(SUITES.parent),
        "-o",
        "console_output_style=progress",
        "--tb=line",
        "-q",
        "--alluredir",
        str(results),
        "--clean-alluredir",
        "--junitxml",
        str(results.parent / "junit.xml"),
        "-o",
        "junit_family=xunit2",
        "--target",
        args.target,
        "--suite-profile",
        args.profile,
        "--run-summary",
        str(summary),
    ]
    if args.target_url:
        arguments += ["--target-url", args.target_url]
    if args.strict:
        arguments.append("--strict-rules")
    if args.ignore_decisions:
        arguments.append("--ignore-decisions")
    if args.max_time:
        arguments += ["--max-time", str(args.max_time)]
    if args.discover:
        arguments += ["--discover", str(args.discover)]
    for rule_id in args.rule:
        arguments += ["--rule", rule_id]
    for fault in args.fault:
        arguments += ["--fault", fault]
    if args.profile != "ci":
        # dev and nightly explore; the seed they used is recorded so a failure can be replayed
        # with --seed. ci stays derandomized.
        seed = args.seed if args.seed is not None else secrets.randbelow(2**32)
        arguments += [f"--hypothesis-seed={seed}"]
    if args.examples:
        arguments += ["--max-examples", str(args.examples)]
    if args.no_shrink:
        arguments.append("--no-shrink")
    return arguments


def validate_run(args: argparse.Namespace) -> None:
    unknown = [rule_id for rule_id in args.rule if rule_id not in rules()]
    if unknown:
        raise UsageError(f"unknown rule {', '.join(unknown)}; see specs/rules.yaml")
    profile = load_profile(args.target)
    if args.fault:
        if not profile.embedded or args.target_url:
            raise UsageError("--fault applies to the embedded reference target only")

        try:
            parse_faults(args.fault)
        except UnknownFaultError as error:
            raise UsageError(str(error)) from None


def rule_table(summary: RunSummary, strict: bool) -> tuple[list[str], bool, bool]:
    """The per-rule table, whether a rule that counts was violated, and whether any broke.

    Failures listed in known-issues.toml show as known and do not count as violations.
    """

    known = load_known_issues()
    target = summary.target.name
    by_rule: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    tickets: dict[str, str] = {}
    for result in summary.results:
        outcome = result.outcome
        issue = known.find(result, target) if outcome in ("failed", "broken") else None
        if issue is not None:
            outcome = "known"
            tickets[result.rule or "(no rule)"] = issue.ticket or "muted"
        by_rule[result.rule or "(no rule)"][outcome] += 1
    lines = [f"{'rule':44} {'level':6} {'pass':>4} {'fail':>4} {'brkn':>4}  verdict"]
    violated = broken = False
    catalogue = rules()
    for rule_id in sorted(by_rule, key=lambda r: list(catalogue).index(r) if r in catalogue else 999):
        counts = by_rule[rule_id]
        rule = catalogue.get(rule_id)
        level = rule.level if rule else "-"
        counts_toward = rule is not None and (rule.gating or strict)
        if counts["failed"]:
            verdict = "VIOLATED" if counts_toward else f"violated ({level}, reported; --strict fails)"
            violated = violated or counts_toward
        elif counts["known"] and not counts["broken"]:
            verdict = f"known issue {tickets[rule_id]}"
            if tickets[rule_id] != "muted" and known.tracker_url:
                verdict += f" ({known.tracker_url.replace('%s', tickets[rule_id])})"
        elif counts["broken"]:
            verdict = "BROKEN (environment or set-up)"
            broken = True
        elif counts["passed"]:
            verdict = "ok"
        else:
            verdict = "skipped"
        lines.append(
            f"{rule_id:44} {level:6} {counts['passed']:>4} {counts['failed']:>4} "
            f"{counts['broken']:>4}  {verdict}"
        )
        if counts["failed"] and rule is not None:
            lines.append(f"{'':44} -> {rule.behaviour}")
    return lines, violated, broken


class MaskedStream(io.TextIOBase):
    """A console stream that masks every known secret on its way out: pytest prints what a
    target echoed (a failure's text, a traceback) before any report is redacted."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(REGISTRY.mask(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")


@contextlib.contextmanager
def guarded_console() -> Iterator[None]:
    """Masked stdout and stderr, and SIGTERM treated as Ctrl-C: either way the run cleans up,
    writes its summary, JUnit and report, and ends broken (exit 3)."""

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    saved = sys.stdout, sys.stderr, signal.getsignal(signal.SIGTERM)
    sys.stdout, sys.stderr = MaskedStream(sys.stdout), MaskedStream(sys.stderr)  # type: ignore[assignment]
    signal.signal(signal.SIGTERM, interrupted)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        signal.signal(signal.SIGTERM, saved[2])


def command_run(args: argparse.Namespace) -> int:
    with guarded_console():
        return run_and_judge(args)


def run_and_judge(args: argparse.Namespace) -> int:
    import pytest

    validate_run(args)
    output = Path(args.output) if args.output else REPORTS
    results, summary_path = output / "allure-results", output / SUMMARY_FILE
    output.mkdir(parents=True, exist_ok=True)
    if summary_path.exists():
        shutil.copyfile(summary_path, output / PREVIOUS_FILE)
    summary_path.unlink(missing_ok=True)
    code = pytest.main(pytest_arguments(args, results, summary_path))
    if code == pytest.ExitCode.USAGE_ERROR:
        return ExitCode.USAGE
    if not summary_path.exists():
        print("error: the run ended before writing its summary", file=sys.stderr)
        return ExitCode.BROKEN
    summary = RunSummary.load(summary_path)
    if summary is None:
        print("error: the run's summary cannot be read", file=sys.stderr)
        return ExitCode.BROKEN
    summary.first_seen = first_seen(summary, output / PREVIOUS_FILE)
    summary.save(summary_path)
    redact_tree(results)
    redact_file(output / "junit.xml")
    print()
    if summary.setup_error:
        print(f"BROKEN: {summary.setup_error}")
        return ExitCode.BROKEN
    lines, violated, broken = rule_table(summary, args.strict)
    print("\n".join(lines))
    print(
        f"\ntarget {summary.target.name} ({summary.target.url}), profile {args.profile}, "
        f"seed {summary.seed}{', strict' if args.strict else ''}"
    )
    if not args.no_report:
        try:
            print(f"report: {generate_report(results, summary, root=output)}")
        except ReportError as error:
            # The verdict stands without the HTML; say why it is missing.
            print(f"report not generated: {error}", file=sys.stderr)
    if violated:
        return ExitCode.VIOLATION
    if broken or code in (ExitCode.BROKEN, pytest.ExitCode.INTERRUPTED):
        return ExitCode.BROKEN
    return ExitCode.OK


# ---------------------------------------------------------------------- other commands
def command_serve(args: argparse.Namespace) -> int:

    try:
        faults = parse_faults(args.fault)
    except UnknownFaultError as error:
        raise UsageError(str(error)) from None
    try:
        serve(args.host, args.port, faults, args.seed, args.visitor_port)
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    except KeyboardInterrupt:
        pass
    return ExitCode.OK


def command_faults(args: argparse.Namespace) -> int:

    for fault in FAULTS:
        print(f"{fault.name}\t{fault.rule}\t{fault.description}")
    return ExitCode.OK


def command_report(args: argparse.Namespace) -> int:

    root = Path(args.output) if args.output else REPORTS
    try:
        if args.action == "generate":
            summary = RunSummary.load(root / SUMMARY_FILE) or RunSummary()
            print(generate_report(root / "allure-results", summary, args.single_file, root))
            return ExitCode.OK
        return open_report(args.action, root)
    except ReportError as error:
        raise UsageError(str(error)) from None


def command_file_regression(args: argparse.Namespace) -> int:

    root = Path(args.output) if args.output else REPORTS
    try:
        bodies = regression_bodies(root / SUMMARY_FILE, root / PREVIOUS_FILE, args.test)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    if not bodies:
        print("no failure to file: the last run has no violation outside the known issues")
        return ExitCode.OK
    print("\n\n---\n\n".join(bodies))
    return ExitCode.OK


def command_list_tests(args: argparse.Namespace) -> int:

    text = conformance_list()
    if args.write:
        LIST.write_text(text, encoding="utf-8")
        print(f"written: {LIST}")
    else:
        print(text, end="")
    return ExitCode.OK


def command_discover(args: argparse.Namespace) -> int:
    load_profile(args.target)  # a clear error for a profile that cannot work, before the run
    try:
        return run_discover(args.target, args.target_url, args.write)
    except DiscoverError as error:
        print(f"BROKEN: {error}", file=sys.stderr)
        return ExitCode.BROKEN


def command_replay(args: argparse.Namespace) -> int:
    try:
        # What to replay first: a folder without that failure needs no target set up.
        result = failing_result(args.output, args.test)
    except (ReplayError, NoRunError) as error:
        raise UsageError(str(error)) from None
    profile = load_profile(args.target)
    if args.target_url:
        profile.with_url(args.target_url)
    faults = parse_faults(args.fault)
    embedded = start_embedded(profile, faults) if profile.embedded and not args.target_url else None
    try:
        harness = Harness(ChatApi(profile, client_for(profile)), profile.ids())
        try:
            harness.bring_agents_online()
            return run_replay(harness, result)
        except (SetupError, TargetUnreachable) as error:
            print(f"BROKEN: {REGISTRY.mask(str(error))}", file=sys.stderr)
            return ExitCode.BROKEN
        finally:
            harness.log_out()
    finally:
        if embedded is not None:
            embedded.stop()


def command_diff(args: argparse.Namespace) -> int:
    folders = [args.a, args.b]
    if args.target:
        if len(args.target) != 2 or args.a or args.b:
            raise UsageError("diff takes two run folders, or --target twice (two targets run now)")
        for target in args.target:
            load_profile(target)  # a clear error before anything runs
        output = Path(args.output) if args.output else REPORTS / "diff"
        folders = run_targets(args.target, output)
    elif not (args.a and args.b):
        raise UsageError("diff takes two run folders, or --target twice (two targets run now)")
    try:
        return run_diff(folders[0], folders[1], args.timing_ms, args.markdown, args.report)
    except (DiffError, NoRunError) as error:
        raise UsageError(str(error)) from None


def command_bench(args: argparse.Namespace) -> int:

    try:
        parse_faults(args.faults or [])
    except UnknownFaultError as error:
        raise UsageError(str(error)) from None

    return run_bench(args)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0 to 65535; 0 picks a free one)")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 7 * 86_400:
        raise argparse.ArgumentTypeError("give a number of seconds above 0 and at most a week")
    return value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="transfer-conformance", description=__doc__.split("\n")[0])
    commands = main.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the conformance suite against a target")
    run.add_argument("--target", default="reference", help="profile name in targets/ or a .toml path")
    run.add_argument("--target-url", help="override every base URL of the profile")
    run.add_argument("--profile", default="ci", choices=RUN_PROFILES, help="example budget")
    run.add_argument("--rule", action="append", default=[], help="only this rule id (repeatable)")
    run.add_argument("--strict", action="store_true", help="SHOULD rules and decisions fail the run too")
    run.add_argument("--fault", action="append", default=[], help="embedded reference only: plant this fault")
    run.add_argument("--seed", type=int, help="Hypothesis seed (dev and nightly; ci is derandomized)")
    run.add_argument("--examples", type=positive, help="override the profile's example budget")
    run.add_argument("--output", help="write results and summary here instead of reports/")
    run.add_argument("--no-shrink", action="store_true", help="skip shrinking failures (faster)")
    run.add_argument(
        "--max-time",
        type=positive_seconds,
        default=None,
        help="seconds the run may take; unfinished tests are then broken (default: the profile's max_time_s)",
    )
    run.add_argument("--discover", type=Path, default=None, help=argparse.SUPPRESS)
    run.add_argument(
        "--ignore-decisions",
        action="store_true",
        help="forget the profile's [decisions] (a new target: MUST rules need none of them)",
    )
    run.add_argument("--no-report", action="store_true", help="skip the HTML report")
    run.add_argument("--known-issues", help="known-issues file (default known-issues.toml)")
    run.set_defaults(handler=command_run)

    serve = commands.add_parser("serve", help="run the reference target standalone")
    serve.add_argument("--port", type=port, required=True, help="0 picks a free port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--fault", action="append", default=[])
    serve.add_argument(
        "--visitor-port", type=port, default=None, help="serve the visitor API on its own port (0: any)"
    )
    serve.add_argument(
        "--seed",
        type=Path,
        default=TARGETS / "reference.toml",
        help="seed file (targets/reference.toml, or a variant in targets/variants/)",
    )
    serve.set_defaults(handler=command_serve)

    faults = commands.add_parser("faults", help="list the fault catalogue (name, rule, description)")
    faults.set_defaults(handler=command_faults)

    report = commands.add_parser("report", help="generate, open or serve the last run's report")
    report.add_argument("action", nargs="?", default="generate", choices=("generate", "open", "serve"))
    report.add_argument("--single-file", action="store_true", help="one HTML file for a ticket")
    report.add_argument("--output", help="the folder a run wrote (default reports/)")
    report.add_argument("--known-issues", help="known-issues file (default known-issues.toml)")
    report.set_defaults(handler=command_report)

    regression = commands.add_parser("file-regression", help="markdown issue bodies for failures")
    regression.add_argument("test", nargs="?", help="a test id or rule id of the last run")
    regression.add_argument("--output", help="the folder a run wrote (default reports/)")
    regression.add_argument("--known-issues", help="known-issues file (default known-issues.toml)")
    regression.set_defaults(handler=command_file_regression)

    listing = commands.add_parser("list-tests", help="the conformance tests by rule and level")
    listing.add_argument("--write", action="store_true", help="rewrite specs/conformance-tests.yaml")
    listing.set_defaults(handler=command_list_tests)

    bench = commands.add_parser("bench", help="fault matrix, baseline and plot")
    bench.add_argument("--examples", type=positive, default=None, help="example budget per property")
    bench.add_argument("--workers", type=positive, default=2)
    bench.add_argument("--faults", nargs="*", default=None, help="only these faults")
    bench.add_argument("--no-baseline", action="store_true")
    bench.add_argument("--no-variants", action="store_true", help="skip the false-alarm matrix")
    bench.set_defaults(handler=command_bench)

    discover = commands.add_parser(
        "discover", help="what the target answers where the docs are silent, as a [decisions] table"
    )
    discover.add_argument("--target", default="reference", help="profile name or .toml path")
    discover.add_argument("--target-url", default=None, help="override every base URL of the profile")
    discover.add_argument("--write", action="store_true", help="put the table into the profile file")
    discover.set_defaults(handler=command_discover)

    replay = commands.add_parser("replay", help="re-send a failing example's requests to a target")
    replay.add_argument("test", help="the failed test's id (or its end) or rule")
    replay.add_argument("--output", type=Path, default=REPORTS, help="the run folder (default reports)")
    replay.add_argument("--target", default="reference", help="profile name or .toml path")
    replay.add_argument("--target-url", default=None, help="override every base URL of the profile")
    replay.add_argument("--fault", action="append", default=[], help="embedded reference: with this fault")
    replay.set_defaults(handler=command_replay)

    diff = commands.add_parser("diff", help="what changed between two runs (run folders), rule by rule")
    diff.add_argument("a", type=Path, nargs="?", help="the earlier run's folder (run --output)")
    diff.add_argument("b", type=Path, nargs="?", help="the later run's folder")
    diff.add_argument(
        "--target",
        action="append",
        default=[],
        help="twice: run these two targets now, at once, and diff them",
    )
    diff.add_argument("--output", default=None, help="with --target: where the two runs go (reports/diff)")
    diff.add_argument(
        "--timing-ms", type=float, default=200.0, help="report a median time change beyond this"
    )
    diff.add_argument("--markdown", type=Path, default=None, help="also write the diff as markdown here")
    diff.add_argument(
        "--report", action="store_true", help="put the diff into B's HTML report (group Release diff)"
    )
    diff.set_defaults(handler=command_diff)
    return main


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    known = getattr(args, "known_issues", None)
    if known:
        if not Path(known).is_file():
            print(f"error: no known-issues file {known}", file=sys.stderr)
            sys.exit(ExitCode.USAGE)
        # Read wherever known issues matter: the table, the report and file-regression.
        os.environ["TC_KNOWN_ISSUES"] = str(Path(known).resolve())
    try:
        code = args.handler(args)
    except (UsageError, ConfigError, CatalogueError) as error:
        print(f"error: {error}", file=sys.stderr)
        code = ExitCode.USAGE
    sys.exit(code)


if __name__ == "__main__":
    main()
