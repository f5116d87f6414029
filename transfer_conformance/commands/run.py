"""`run`: the suite against a target, its table per rule, the report, and the exit code.

Exit codes: 0 conformant, 1 a rule violated (even if some results are also broken), 2 usage or
configuration error, 3 the target unreachable or set-up broken (or results broken with no
violation: nothing proves conformance then).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import io
import os
import secrets
import select
import shutil
import signal
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import NoReturn, TextIO

import pytest

from reference_target.faults import parse_faults
from strategies import TextDomain, use_domain
from transfer_conformance.errors import ExitCode, UsageError
from transfer_conformance.http.client import STOP_REQUESTED
from transfer_conformance.http.masking import REGISTRY
from transfer_conformance.paths import SUITES
from transfer_conformance.plugin.options import RunOptions, add_arguments
from transfer_conformance.plugin.session import plugins_for
from transfer_conformance.run import folder
from transfer_conformance.run.known_issues import KnownIssues, load_known_issues
from transfer_conformance.run.lanes import claims_pipe, lane_folder, merge, one_token
from transfer_conformance.run.report import ReportError, generate_report, redact_file, redact_tree
from transfer_conformance.run.summary import (
    HAR_FILE,
    JUNIT_FILE,
    PREVIOUS_FILE,
    SUMMARY_FILE,
    Outcome,
    RunSummary,
)
from transfer_conformance.run.verdicts import RuleVerdict, Verdict, exit_code, rule_verdicts
from transfer_conformance.target_api.api import start_embedded
from transfer_conformance.target_api.profile import TargetProfile, load_profile
from transfer_contract.catalogue import rules

EXIT_CODES = """exit codes:
  0  conformant: every rule that counts holds
  1  a rule that counts was violated (MUST rules; SHOULD rules and decisions with --strict)
  2  usage or configuration error: nothing was sent
  3  broken: the target unreachable or stopped answering, set-up failed, or results broke
     with no violation (nothing proves conformance then)"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default where it has one worth saying, and the exit codes as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "default" in text:
            return text
        return f"{text} (default: %(default)s)"


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="run the conformance suite against a target",
        description="Run the conformance suite against a target and judge it rule by rule.",
        epilog=EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    add_arguments(run)
    run.set_defaults(handler=command_run)


def command_run(args: argparse.Namespace) -> int:
    options = RunOptions.from_arguments(args)
    profile = checked_profile(options)
    known = load_known_issues(options.known_issues)
    with folder.held(options.output, shared=options.shared_output), guarded_console():
        return run_and_judge(options, profile, known)


def checked_profile(options: RunOptions) -> TargetProfile:
    """The run's profile, loaded once, with every option checked against it before anything runs."""
    unknown = [rule_id for rule_id in options.rules if rule_id not in rules()]
    if unknown:
        raise UsageError(f"unknown rule {', '.join(unknown)}; see specs/rules.yaml")
    profile = load_profile(options.target)
    if options.faults:
        if not profile.embedded or options.target_url:
            raise UsageError("--fault applies to the embedded reference target only")
        parse_faults(options.faults)
    if options.target_url:
        profile.with_url(options.target_url)
    if options.ignore_decisions:
        profile.decisions = {}
    if options.concurrency:
        profile.concurrency = options.concurrency
    if options.lanes > profile.agent_sets:
        raise UsageError(
            f"--lanes {options.lanes}: {profile.name} declares {profile.agent_sets} agent set(s), its own "
            f"and one per [[lanes]] table; each lane needs one of its own (see README, A far target)"
        )
    if options.lanes > MAX_LANES:
        raise UsageError(
            f"--lanes {options.lanes}: at most {MAX_LANES} (each lane is a run's process; more would "
            "pass the run's memory budget)"
        )
    return profile


def pytest_arguments(options: RunOptions, seed: int | None) -> list[str]:
    """pytest's own options for a run; ours travel typed, in the plugins."""
    arguments = [
        *suite_paths(options.rules),
        # Only the plugins a run needs, named: another pytest plugin installed beside the suite
        # (pytest-randomly reorders and reseeds) must not change what a run sends or judges,
        # and looking through every installed package's entry points cost a short run a
        # quarter of a second.
        "--disable-plugin-autoload",
        "-p",
        "_hypothesis_pytestplugin",
        "-p",
        "allure_pytest.plugin",
        "-p",
        "no:cacheprovider",
        # Schemathesis is used as a library here; its pytest plugin blanks Hypothesis'
        # failing-example values in reports, so it stays off.
        "-p",
        "no:schemathesis",
        # Python warnings about exceptions nobody could catch (in finalizers, threads): their
        # plugins collect garbage five times over at the end of every run, which cost a short
        # run a tenth of its time; the run's verdict never depended on them.
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
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
        # pytest shows progress only: each failure, the count and the verdict are the run's
        # own lines afterwards, in words (no tracebacks, reprs or exception classes).
        "--tb=no",
        "-rN",
        "-qq",
        "--alluredir",
        str(options.results),
        "--clean-alluredir",
        "--junitxml",
        str(options.output / JUNIT_FILE),
        "-o",
        "junit_family=xunit2",
    ]
    if seed is not None:
        arguments.append(f"--hypothesis-seed={seed}")
    return arguments


def suite_paths(wanted: tuple[str, ...]) -> list[str]:
    """What pytest collects: the modules of the rules asked for (each rule's module is named
    after it, which the catalogue lint holds), else every suite. Collecting only those spares
    a one-rule run the imports of every other suite."""
    paths = [SUITES / f"test_{rule_id.replace('-', '_')}.py" for rule_id in wanted]
    if not paths or not all(path.is_file() for path in paths):
        return [str(SUITES)]
    return [str(path) for path in paths]


def first_seen(summary: RunSummary, previous_path: Path) -> dict[str, float]:
    """When each failing test started failing, carried over while it keeps failing."""
    previous = RunSummary.load(previous_path)
    earlier = previous.first_seen if previous else {}
    return {result.nodeid: earlier.get(result.nodeid, result.finished) for result in summary.failed()}


def table(verdicts: dict[str, RuleVerdict], known: KnownIssues) -> list[str]:
    """The per-rule table the run prints."""
    catalogue = rules()
    lines = [f"{'rule':44} {'level':6} {'pass':>4} {'fail':>4} {'brkn':>4}  verdict"]
    for rule_id, found in verdicts.items():
        counts = found.counts
        if found.verdict is Verdict.VIOLATED:
            text = (
                "VIOLATED" if found.counts_toward else f"violated ({found.level}, reported; --strict fails)"
            )
        elif found.verdict is Verdict.KNOWN:
            text = f"known issue {found.ticket}"
            if found.ticket != "muted" and known.tracker_url:
                text += f" ({known.tracker_url.replace('%s', found.ticket)})"
        elif found.verdict is Verdict.BROKEN:
            text = "BROKEN (not judged: see its results)"
        else:
            text = found.verdict.value
        lines.append(
            f"{rule_id:44} {found.level:6} {counts['passed']:>4} {counts['failed']:>4} "
            f"{counts['broken']:>4}  {text}"
        )
        if found.verdict is Verdict.VIOLATED and rule_id in catalogue:
            lines.append(f"{'':44} -> {catalogue[rule_id].behaviour}")
    return lines


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
        STOP_REQUESTED.set()
        raise KeyboardInterrupt(f"signal {signum}")

    saved = sys.stdout, sys.stderr, signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    sys.stdout, sys.stderr = MaskedStream(sys.stdout), MaskedStream(sys.stderr)  # type: ignore[assignment]
    signal.signal(signal.SIGTERM, interrupted)
    # Ctrl-C as well, unless it is ignored (a run started in the background keeps it so)
    if saved[3] is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        signal.signal(signal.SIGTERM, saved[2])
        signal.signal(signal.SIGINT, saved[3])


def failure_blocks(summary: RunSummary, known: KnownIssues, output: Path) -> list[str]:
    """Each failure that counts, as a person reads it: the rule, level, Expected / Actual, the
    curl, and where the evidence is."""
    blocks = []
    for result in summary.failed():
        if known.find(result, summary.target.name):
            continue
        blocks.append(
            f"FAILED {result.rule} ({result.level}): {result.nodeid}\n"
            + "\n".join(f"  {line}" for line in result.message.strip().splitlines())
            + f"\n  evidence: {output / SUMMARY_FILE}, {output / HAR_FILE}"
        )
    return blocks


def count_line(summary: RunSummary, verdicts: dict[str, RuleVerdict]) -> str:
    counts = Counter(result.outcome for result in summary.results)
    known = sum(found.counts[Verdict.KNOWN] for found in verdicts.values())
    line = (
        f"{len(summary.results)} tests: {counts[Outcome.PASSED]} passed, {counts[Outcome.FAILED]} failed, "
        f"{counts[Outcome.BROKEN]} broken, {counts[Outcome.SKIPPED]} skipped"
    )
    return line + (f" ({known} known issues)" if known else "")


def verdict_line(summary: RunSummary, verdicts: dict[str, RuleVerdict], code: int) -> str:
    """The run's verdict in one line."""
    if code == ExitCode.VIOLATION:
        failing = [found for found in verdicts.values() if found.fails_run]
        levels = sorted({found.level for found in failing})
        return (
            f"verdict: violated: {len(failing)} {'/'.join(levels)} rule{'s' if len(failing) != 1 else ''}: "
            + ", ".join(found.rule for found in failing)
        )
    if code == ExitCode.BROKEN and summary.write_error:
        return f"verdict: broken: {summary.write_error}"
    if code == ExitCode.BROKEN:
        broken = [rule for rule, found in verdicts.items() if found.verdict is Verdict.BROKEN]
        why = (
            summary.setup_error
            or summary.stopped.removeprefix("not run: ")
            or f"{len(broken)} rule(s) could not be judged: {', '.join(broken)}"
        )
        if summary.interference:
            why = f"another client used the same agents during the run; {why}"
        return f"verdict: broken: {why}"
    reported = [found.rule for found in verdicts.values() if found.verdict is Verdict.VIOLATED]
    if reported:
        return f"verdict: conformant (MUST rules hold; reported, not gating: {', '.join(reported)})"
    return "verdict: conformant"


def run_and_judge(options: RunOptions, profile: TargetProfile, known: KnownIssues) -> int:
    output, summary_path = options.output, options.summary_path
    output.mkdir(parents=True, exist_ok=True)
    if summary_path.exists():
        shutil.copyfile(summary_path, output / PREVIOUS_FILE)
    summary_path.unlink(missing_ok=True)
    seed: int | None = None
    if options.profile != "ci":
        # dev and nightly explore; the seed they used is recorded so a failure can be replayed
        # with --seed. ci stays derandomized.
        seed = options.seed if options.seed is not None else secrets.randbelow(2**32)
    seed_label = "derandomized" if seed is None else str(seed)
    if options.lanes > 1:
        code = run_lanes(options, profile, seed, seed_label)
    else:
        code = pytest.main(pytest_arguments(options, seed), plugins=plugins_for(options, profile, seed_label))
    if code == pytest.ExitCode.USAGE_ERROR:
        return ExitCode.USAGE
    summary = RunSummary.load(summary_path)
    if summary is None:
        print(
            "verdict: broken: the run ended before writing a readable summary "
            f"(is {output} full or unwritable?)"
        )
        return ExitCode.BROKEN
    summary.first_seen = first_seen(summary, output / PREVIOUS_FILE)
    summary.save(summary_path)
    redact_tree(options.results)
    redact_file(output / JUNIT_FILE)
    print()
    if summary.setup_error:
        print(f"verdict: broken: {summary.setup_error}")
        return ExitCode.BROKEN
    verdicts = rule_verdicts(summary, strict=options.strict, known=known)
    for block in failure_blocks(summary, known, output):
        print(block, end="\n\n")
    print("\n".join(table(verdicts, known)))
    if summary.stopped:
        print(f"\nstopped early: {summary.stopped.removeprefix('not run: ')}")
    if summary.interference:
        print(
            f"\nanother client used the same agents: {len(summary.interference)} sign(s), first: "
            f"{summary.interference[0]}; results it disturbed are broken, not violations"
        )
    print(
        f"\ntarget {summary.target.name} ({summary.target.url}), profile {options.profile}, "
        f"seed {summary.seed}{', strict' if options.strict else ''}"
    )
    if not options.no_report:
        try:
            index = generate_report(options.results, summary, root=output, known=known)
            # A multi-file Allure report needs http to open: say the one command that serves it.
            print(f"report: {index} (open it with: transfer-conformance report open --output {output})")
        except ReportError as error:
            # The verdict stands without the HTML; say why it is missing.
            print(f"report not generated: {error}", file=sys.stderr)
    interrupted = code in (ExitCode.BROKEN, pytest.ExitCode.INTERRUPTED) or bool(summary.write_error)
    result = exit_code(verdicts, interrupted=interrupted)
    if summary.write_error:
        print(f"\nnot everything could be written: {summary.write_error}")
        result = ExitCode.BROKEN
    print(count_line(summary, verdicts))
    print(verdict_line(summary, verdicts, result))
    return result


# Lanes are forked from this process and share what it has loaded (preload_for_lanes). A lane's
# own memory (USS) reaches 60 to 90 MB when it runs the contract's cases (Schemathesis' caches,
# native memory mostly), 35 to 42 MB when it does not: the contract goes to the first two lanes
# only (run/lanes.py lane_queues). Measured (benchmarks/suite_run.py --lanes N --no-report, the whole
# tree, the reference included): 401 MB PSS for 4 lanes, 411 to 441 MB for 6, and 415 to 440 MB
# for a failing strict run of 6 lanes that shrinks. Six keep a run, failing runs too, within
# its 500 MB; a seventh would leave too little room.
MAX_LANES = 6


def run_lanes(options: RunOptions, profile: TargetProfile, seed: int | None, seed_label: str) -> int:
    """The tests side by side in ``options.lanes`` lanes, each a process on an agent set of its
    own, then their folders merged into the run's; pytest's exit code as one run's would be."""
    for stale in (options.output / JUNIT_FILE, options.output / HAR_FILE):
        stale.unlink(missing_ok=True)
    shutil.rmtree(options.results, ignore_errors=True)
    weights = options.output / PREVIOUS_FILE
    # One embedded reference for every lane, started before they fork.
    embedded = start_embedded(profile, options.faults) if profile.embedded and not profile.base_url else None
    lanes: dict[int, tuple[int, int]] = {}
    # Only this process holds the pipe's writing end: when it ends, however it ends (a kill -9),
    # each lane sees the pipe close and stops as a stopped run does, cleaning up first.
    parent_gone, parent_alive = os.pipe()
    claims, heavy_claims = claims_pipe(), claims_pipe()
    token = one_token()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        preload_for_lanes(options, profile)
        # What the lanes inherit stays shared: the collector then never writes to those pages.
        gc.freeze()
        for number in range(options.lanes):
            lane_options = replace(
                options,
                output=lane_folder(options.output, number),
                lane=number,
                no_report=True,
                lane_weights=weights if weights.is_file() else None,
                lane_claims=claims,
                lane_heavy_claims=heavy_claims,
                lane_token=token,
            )
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read)
                os.close(parent_alive)
                stop_when_closed(parent_gone)
                run_lane(lane_options, profile.lane(number, options.lanes), seed, seed_label, write)
            os.close(write)
            lanes[pid] = (number, read)
        codes, interrupted = relay(lanes)
    finally:
        for pipe in (parent_gone, parent_alive, claims, heavy_claims, token):
            os.close(pipe)
        if embedded is not None:
            embedded.stop()
    merge(options.output, options.lanes, interrupted)
    if pytest.ExitCode.USAGE_ERROR in codes:
        return pytest.ExitCode.USAGE_ERROR
    if interrupted or pytest.ExitCode.INTERRUPTED in codes or pytest.ExitCode.INTERNAL_ERROR in codes:
        return pytest.ExitCode.INTERRUPTED
    return pytest.ExitCode.TESTS_FAILED if pytest.ExitCode.TESTS_FAILED in codes else pytest.ExitCode.OK


def preload_for_lanes(options: RunOptions, profile: TargetProfile) -> None:
    """Load, before the lanes fork, what each lane's run would load for itself: the libraries
    and the suite modules, under the names pytest gives them (the suites folder on the path,
    each module by its name: pytest then finds it loaded). Shared by every lane instead of
    copied into each (3 lanes: 413 -> 373 MB, and 18 -> 13 s on the reference). The run's
    Hypothesis settings and text domain come first: a suite's settings are read as it loads.
    A module that fails to load is left to the lanes, whose pytest reports it as usual."""
    options.load_budget()
    use_domain(TextDomain.from_decisions(profile.decisions))
    names = ["schemathesis", "allure_pytest.plugin", "_hypothesis_pytestplugin"]
    if str(SUITES) not in sys.path:
        sys.path.insert(0, str(SUITES))
    for path in map(Path, suite_paths(options.rules)):
        names += [module.stem for module in sorted(path.glob("test_*.py"))] if path.is_dir() else [path.stem]
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def stop_when_closed(pipe: int) -> None:
    """In a lane: SIGTERM to itself when nothing can write to ``pipe`` any more (the run that
    forked it has ended)."""

    def watch() -> None:
        while os.read(pipe, 1):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="lane-parent-watch", daemon=True).start()


def run_lane(
    options: RunOptions, profile: TargetProfile, seed: int | None, seed_label: str, out: int
) -> NoReturn:
    """In a lane's process: the lane's share of the tests as a run of its own into its folder,
    its console into ``out``; the process ends with pytest's exit code."""
    code = pytest.ExitCode.INTERNAL_ERROR
    try:
        # Ctrl-C reaches the whole process group: the parent alone decides, and says so with
        # SIGTERM (which a run takes as Ctrl-C: it cleans up and writes its folder).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        options.output.mkdir(parents=True, exist_ok=True)
        code = pytest.main(pytest_arguments(options, seed), plugins=plugins_for(options, profile, seed_label))
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(int(code))


def relay(lanes: dict[int, tuple[int, int]]) -> tuple[list[int], bool]:
    """Print each lane's console as it comes, each line led by its lane, until every lane has
    ended; their exit codes, and whether the run was interrupted (Ctrl-C or SIGTERM: passed to
    the lanes once, as SIGTERM; a second one kills them)."""
    streams = {fd: (number, b"") for number, fd in lanes.values()}
    interrupted = False
    while streams:
        try:
            ready, _, _ = select.select(list(streams), [], [])
            for fd in ready:
                number, pending = streams[fd]
                chunk = os.read(fd, 65536)
                lines = (pending + chunk).split(b"\n")
                if not chunk:
                    lines.append(b"")
                    os.close(fd)
                    del streams[fd]
                else:
                    streams[fd] = (number, lines[-1])
                for line in lines[:-1]:
                    if line.strip():
                        print(f"lane {number + 1} | {line.decode('utf-8', 'replace')}", flush=True)
        except KeyboardInterrupt:
            for pid in lanes:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL if interrupted else signal.SIGTERM)
            interrupted = True
    codes = []
    for pid in lanes:
        _, status = os.waitpid(pid, 0)
        codes.append(os.waitstatus_to_exitcode(status))
    return codes, interrupted
