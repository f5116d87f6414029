"""The run's options, declared once and typed: `transfer-conformance run` builds them from its
command line and hands them to the plugins (`plugin.session.plugins_for`); no plugin reads a
pytest option of ours. Also Hypothesis' example budgets per run profile."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hypothesis import HealthCheck, Phase, settings

from transfer_conformance.paths import REPORTS
from transfer_conformance.run.summary import RESULTS_FOLDER, RUN_PROFILES, SUMMARY_FILE
from transfer_conformance.target_api.profile import LIMITS

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": False,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
}
# Example budgets per run profile. ci is derandomized: the gating run is repeatable.
# stateful_step_count: the longest life the routing model draws (nightly: hundreds of steps).
settings.register_profile("dev", max_examples=5, stateful_step_count=20, **_COMMON)
settings.register_profile("ci", max_examples=8, stateful_step_count=50, derandomize=True, **_COMMON)
settings.register_profile("nightly", max_examples=60, stateful_step_count=300, **_COMMON)
# Schemathesis cases per operation and mode, by run profile.
CONTRACT_EXAMPLES = {"dev": 6, "ci": 8, "nightly": 50}


@dataclass(frozen=True)
class RunOptions:
    """What one `run` was asked to do."""

    target: str = "reference"
    target_url: str | None = None
    profile: str = "ci"
    rules: tuple[str, ...] = ()
    strict: bool = False
    faults: tuple[str, ...] = ()
    seed: int | None = None
    examples: int | None = None
    output: Path = REPORTS
    no_shrink: bool = False
    max_time: float | None = None
    discover: Path | None = None
    ignore_decisions: bool = False
    no_report: bool = False
    known_issues: Path | None = None
    shared_output: bool = False
    concurrency: int | None = None
    # Tests side by side, each lane on an agent set of its own (`run --lanes N`): how many
    # lanes, which one this process runs, and the earlier run whose durations order the tests.
    lanes: int = 1
    lane: int = 0
    lane_weights: Path | None = None
    # the pipe a lane takes its tests' numbers from (run.lanes.claim)
    lane_claims: int | None = None
    # the pipe the first lanes take the heavy tests' numbers from, when there are more lanes
    lane_heavy_claims: int | None = None
    # the pipe whose one byte lets the first lane that finds the target slow say so for the run
    lane_token: int | None = None

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> RunOptions:
        return cls(
            target=args.target,
            target_url=args.target_url,
            profile=args.profile,
            rules=tuple(args.rule),
            strict=args.strict,
            faults=tuple(args.fault),
            seed=args.seed,
            examples=args.examples,
            output=args.output,
            no_shrink=args.no_shrink,
            max_time=args.max_time,
            discover=args.discover,
            ignore_decisions=args.ignore_decisions,
            no_report=args.no_report,
            known_issues=Path(args.known_issues) if args.known_issues else None,
            shared_output=args.shared_output,
            concurrency=args.concurrency,
            lanes=args.lanes,
        )

    @property
    def results(self) -> Path:
        return self.output / RESULTS_FOLDER

    @property
    def summary_path(self) -> Path:
        return self.output / SUMMARY_FILE

    @property
    def contract_examples(self) -> int:
        """Schemathesis cases per operation and mode."""
        return self.examples or CONTRACT_EXAMPLES[self.profile]

    def load_budget(self) -> None:
        """Load the run profile's Hypothesis settings, adjusted by --examples and --no-shrink."""
        settings.load_profile(self.profile)
        overrides: dict[str, Any] = {}
        if self.examples:
            # --examples sizes the routing model's lives too: 10 steps an example, at most the
            # profile's own length
            steps = min(settings.get_profile(self.profile).stateful_step_count, 10 * self.examples)
            overrides = {"max_examples": self.examples, "stateful_step_count": steps}
        if self.no_shrink:
            overrides["phases"] = [p for p in Phase if p not in (Phase.shrink, Phase.explain)]
        if overrides:
            settings.register_profile("adjusted", parent=settings.get_profile(self.profile), **overrides)
            settings.load_profile("adjusted")


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def concurrency(text: str) -> int:
    """Requests a test may have in flight at once, within the profile key's own range."""
    value = positive(text)
    highest = int(LIMITS["concurrency"][2])
    if value > highest:
        raise argparse.ArgumentTypeError(f"{text} is more than {highest}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 7 * 86_400:
        raise argparse.ArgumentTypeError("give a number of seconds above 0 and at most a week")
    return value


def base_url(text: str) -> str:
    """A base URL: http(s), a host, no path (a proxy or a reference started with `serve`)."""
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    if parsed.path.strip("/") or parsed.query:
        raise argparse.ArgumentTypeError(
            f"{text!r} has a path: give the base URL alone ({parsed.scheme}://{parsed.netloc})"
        )
    return text.rstrip("/")


def add_arguments(run: argparse.ArgumentParser) -> None:
    """The run options on the `run` command line (the one declaration of them)."""
    run.add_argument("--target", default="reference", help="profile name in targets/ or a .toml path")
    run.add_argument("--target-url", type=base_url, help="override every base URL of the profile")
    run.add_argument(
        "--output",
        type=Path,
        default=REPORTS,
        help="write results, summary, traffic and report here (default: reports/ here)",
    )
    run.add_argument(
        "--shared-output",
        action="store_true",
        help="create the run's files with your umask as it is (by default only you can read them)",
    )
    run.add_argument("--profile", default="ci", choices=RUN_PROFILES, help="example budget")
    run.add_argument("--rule", action="append", default=[], help="only this rule id (repeatable)")
    run.add_argument("--strict", action="store_true", help="SHOULD rules and decisions fail the run too")
    run.add_argument("--fault", action="append", default=[], help="embedded reference only: plant this fault")
    run.add_argument("--seed", type=int, help="Hypothesis seed (dev and nightly; ci is derandomized)")
    run.add_argument("--examples", type=positive, help="override the profile's example budget")
    run.add_argument("--no-shrink", action="store_true", help="skip shrinking failures (faster)")
    run.add_argument(
        "--concurrency",
        type=concurrency,
        help="requests a test may have in flight at once, 1 to 32 (default: the profile's concurrency, 4)",
    )
    run.add_argument(
        "--lanes",
        type=positive,
        default=1,
        help="run tests side by side in N lanes, each on an agent set of the profile's own "
        "([[lanes]]; default 1): a far target's run then takes about 1/N of the time",
    )
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
    run.add_argument("--known-issues", help="known-issues file (default: known-issues.toml here, if any)")
