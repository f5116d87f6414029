"""Benchmark of a whole suite run (prints figures; not a test).

    .venv/bin/python benchmarks/suite_run.py [--profile ci] [--runs 3]

Runs `transfer-conformance run --target reference --profile ci` (report included) and prints
its wall time and the peak resident memory of the run and of the reference target it starts
(the largest process of the tree), against the budgets: 60 s and 500 MB for the ci profile.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time

WALL_BUDGET_S = 60
MEMORY_BUDGET_MB = 500


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    walls = []
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as output:
            command = [
                sys.executable,
                "-m",
                "transfer_conformance.cli",
                "run",
                "--target",
                "reference",
                "--profile",
                args.profile,
                "--output",
                output,
            ]
            if args.no_report:
                command.append("--no-report")
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            walls.append(time.perf_counter() - started)
        print(f"run {number}: exit {done.returncode}, {walls[-1]:.1f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\nwall time: median {statistics.median(walls):.1f} s, max {max(walls):.1f} s "
        f"(budget {WALL_BUDGET_S} s)"
    )
    print(f"peak resident memory of the largest process: {peak_mb:.0f} MB (budget {MEMORY_BUDGET_MB} MB)")


if __name__ == "__main__":
    main()
