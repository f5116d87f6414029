"""Benchmark: a ci run against a far target (prints figures; not a test).

    .venv/bin/python benchmarks/latency.py [--delays 0,100,300] [--variant other-statuses]
                                           [--concurrency N] [--lanes N] [--rule ID ...]

A real staging answers across a network. Each line serves one reference (or one variant of it),
puts a proxy in front of it that holds every answer back by the given delay (the test helper
`tests/hostile_targets.py`, behaviour `delayed`), and runs the ci profile through the proxy with
the plain reference profile: the variant's own decisions are not declared, so its SHOULD
decisions fail and are reported, as they would be on a staging that decided otherwise. It
prints the run's wall time, the requests it sent (and how many of them the routing model's
lives sent: a life winds down at the test's deadline, so a slow run judges shorter lives), the
seconds spent waiting for answers (summed over requests in flight at once), its exit code, and
whether its verdict table is the one the same target gave at the first delay.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reference_target.embedded import EmbeddedReference
from transfer_conformance.run.summary import RunSummary
from transfer_conformance.run.verdicts import rule_verdicts
from transfer_contract.paths import TARGETS

CHECKOUT = Path(__file__).resolve().parent.parent
# The delaying proxy is the tests' hostile target (one proxy in the project, not two); `tests` is
# not installed, so it is imported from the checkout.
sys.path.insert(0, str(CHECKOUT))
from tests.hostile_targets import HostileTarget, delayed  # noqa: E402

LIVES = "suites/test_routing_model.py::test_routing_holds_over_generated_lives"


def one_run(
    seed: Path, delay_ms: int, extra: list[str]
) -> tuple[float, int, int, float, int, dict[str, str]]:
    """Wall seconds, requests (all, and the routing model's), seconds waited, exit code and
    verdict per rule of one ci run."""
    with (
        tempfile.TemporaryDirectory() as output,
        EmbeddedReference(seed_path=seed) as reference,
        HostileTarget(reference.url, delayed(delay_ms / 1000)) as proxy,
    ):
        command = [sys.executable, "-m", "transfer_conformance.cli", "run", "--profile", "ci"]
        command += ["--target", str(TARGETS / "reference.toml"), "--target-url", proxy.url]
        command += ["--no-report", "--output", output, *extra]
        started = time.monotonic()
        finished = subprocess.run(command, cwd=CHECKOUT, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        summary = RunSummary.load(Path(output) / "last-run.json")
        traffic = json.loads((Path(output) / "traffic.har").read_text(encoding="utf-8"))
    lives = sum(entry.get("_test") == LIVES for entry in traffic["log"]["entries"])
    if summary is None:
        print(finished.stdout[-2000:] + finished.stderr[-2000:], file=sys.stderr)
        raise SystemExit("the run wrote no summary")
    verdicts = {rule: str(v.verdict) for rule, v in rule_verdicts(summary, strict=False, known=None).items()}
    return wall, summary.requests_sent, lives, summary.request_seconds, finished.returncode, verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delays", default="0,100,300", help="milliseconds per answer, comma-separated")
    parser.add_argument(
        "--variant", default="other-statuses", help="a variant of targets/variants/ ('' for none)"
    )
    parser.add_argument("--concurrency", type=int, help="passed to the run (--concurrency)")
    parser.add_argument("--lanes", type=int, help="passed to the run (--lanes: tests side by side)")
    parser.add_argument("--rule", action="append", default=[], help="run only this rule (repeatable)")
    args = parser.parse_args()
    delays = [int(d) for d in args.delays.split(",") if d.strip()]
    extra = [f"--concurrency={args.concurrency}"] if args.concurrency else []
    extra += [f"--lanes={args.lanes}"] if args.lanes else []
    for rule in args.rule:
        extra += ["--rule", rule]
    seeds = [("reference", TARGETS / "reference.toml")]
    if args.variant:
        seeds.append((args.variant, TARGETS / "variants" / f"{args.variant}.toml"))
    heading = f"{'target':<22}{'delay ms':>9}{'wall s':>9}{'requests':>10}{'of lives':>10}{'waited s':>10}"
    print(f"{heading}{'exit':>6}  verdicts")
    for name, seed in seeds:
        first: dict[str, str] | None = None
        for delay in delays:
            wall, sent, lives, waited, code, verdicts = one_run(seed, delay, extra)
            first = verdicts if first is None else first
            same = (
                "same as first"
                if verdicts == first
                else f"DIFFER: {sorted(set(verdicts.items()) ^ set(first.items()))}"
            )
            print(
                f"{name:<22}{delay:>9}{wall:>9.1f}{sent:>10}{lives:>10}{waited:>10.1f}{code:>6}  {same}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
