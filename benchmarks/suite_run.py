"""Benchmark of a whole suite run (prints figures; not a test).

    .venv/bin/python benchmarks/suite_run.py [--profile ci] [--runs 3] [--lanes N]
                                             [--faults a,b --strict]

Runs `transfer-conformance run --target reference --profile ci` (report included) and prints
its wall time and the peak resident memory of the run and of the reference target it starts
(the largest process of the tree), against the budgets: 60 s and 500 MB for the ci profile.
With lanes (a process each, forked from the run's), the run is several processes at once: it
also prints the peak of the whole tree's memory, sampled every 0.1 s, as the kernel counts it
(PSS: pages the processes share counted once) and as the sum of each process's resident size
(shared pages counted in every process: an upper bound). With --faults (the reference's named
faults) and --strict, the run fails and shrinks: a failing run's memory, against the same budget.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

WALL_BUDGET_S = 60
MEMORY_BUDGET_MB = 500


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants now."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            queue += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except OSError:
            continue
    return found


def memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB; zeros once it has ended."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("Pss", "Rss"):
                values[key] = int(value.split()[0])
    except OSError:
        pass
    return values.get("Pss", 0), values.get("Rss", 0)


class TreeMemory:
    """The peak, over the run, of its process tree's summed PSS and RSS (sampled)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.pss, self.rss = pid, 0, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.done.wait(0.1):
            sizes = [memory_kb(pid) for pid in tree(self.pid)]
            self.pss = max(self.pss, sum(pss for pss, _ in sizes))
            self.rss = max(self.rss, sum(rss for _, rss in sizes))

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--lanes", type=int, default=1)
    parser.add_argument("--faults", default="", help="faults for the reference, comma-separated")
    parser.add_argument("--strict", action="store_true", help="decisions fail the run (and shrink)")
    args = parser.parse_args()
    walls = []
    trees = []
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
            command += ["--lanes", str(args.lanes)]
            command += [f"--fault={fault}" for fault in args.faults.split(",") if fault]
            command += ["--strict"] if args.strict else []
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            memory = TreeMemory(process.pid)
            code = process.wait()
            walls.append(time.perf_counter() - started)
            memory.stop()
            trees.append(memory)
        print(
            f"run {number}: exit {code}, {walls[-1]:.1f} s, whole tree at its peak: "
            f"{memory.pss / 1024:.0f} MB PSS, {memory.rss / 1024:.0f} MB summed RSS"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"\nwall time: median {statistics.median(walls):.1f} s, max {max(walls):.1f} s "
        f"(budget {WALL_BUDGET_S} s)"
    )
    print(f"peak resident memory of the largest process: {peak_mb:.0f} MB (budget {MEMORY_BUDGET_MB} MB)")
    print(
        f"peak of the whole tree: {max(t.pss for t in trees) / 1024:.0f} MB PSS, "
        f"{max(t.rss for t in trees) / 1024:.0f} MB summed RSS (budget {MEMORY_BUDGET_MB} MB)"
    )


if __name__ == "__main__":
    main()
