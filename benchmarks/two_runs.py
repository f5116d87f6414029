"""Two ci runs at once against one reference with the same agents, several times (prints
figures; not a test).

    .venv/bin/python benchmarks/two_runs.py [--tries 5]

Each try serves one reference and starts two whole ci runs against it, each in its own folder;
it prints both exit codes, the signs of another client each run saw, and what the reference
still holds afterwards. The aim (issue: safe on a shared staging): never exit 1, every exit 3
naming the other client, nothing left open.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from reference_target.embedded import EmbeddedReference

CHECKOUT = Path(__file__).resolve().parent.parent


def one_try(folder: Path) -> tuple[list[int], list[int], dict[str, int], float]:
    with EmbeddedReference() as reference:
        started = time.monotonic()
        runs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "transfer_conformance.cli",
                    "run",
                    "--target-url",
                    reference.url,
                    "--no-report",
                    "--output",
                    str(folder / name),
                ],
                cwd=CHECKOUT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("a", "b")
        ]
        outputs = [run.communicate(timeout=900) for run in runs]
        wall = time.monotonic() - started
        with urllib.request.urlopen(f"{reference.url}/_reference/state", timeout=5) as answer:
            state = json.load(answer)
    codes = [run.returncode for run in runs]
    for code, (stdout, _) in zip(codes, outputs, strict=True):
        if code == 3 and "another client used the same agents" not in stdout:
            print("  an exit 3 that does not name the other client:", stdout.strip().splitlines()[-1])
    signs = [len(json.loads((folder / name / "last-run.json").read_text())["interference"]) for name in "ab"]
    return codes, signs, state, wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    violations = 0
    for number in range(1, args.tries + 1):
        with tempfile.TemporaryDirectory() as folder:
            codes, signs, state, wall = one_try(Path(folder))
        violations += codes.count(1)
        print(
            f"try {number}: exit codes {codes}, signs of the other client {signs}, "
            f"{wall:.0f} s; left open: {state['open_chats']} chats, {state['ringing_chats']} ringing"
        )
    print(f"exit 1 in {violations} of {2 * args.tries} runs (aim: 0)")


if __name__ == "__main__":
    main()
