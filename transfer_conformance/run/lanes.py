"""Lanes: a run's tests side by side, each lane a process on an agent set of the profile's own
([[lanes]]), and the one run folder made of theirs.

A lane writes a whole run folder of its own under ``<output>/lanes/<n>`` (summary, JUnit, HAR,
Allure results, ledger); `merge` then makes ``<output>`` the folder one run would have written,
each result naming its lane (replay logs in that lane's agents). The lane folders stay: a lane's
ledger is what `cleanup` reads after a run that was killed.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import xml.etree.ElementTree as ElementTree  # writing only: reading lanes' files is defusedxml's
from pathlib import Path

from defusedxml.ElementTree import parse as parse_xml

from transfer_conformance.files import write_text_atomically
from transfer_conformance.run.summary import (
    HAR_FILE,
    JUNIT_FILE,
    RESULTS_FOLDER,
    SUMMARY_FILE,
    Outcome,
    Result,
    RunSummary,
)
from transfer_contract.catalogue import rules

LANES_FOLDER = "lanes"
COLLECTED_FILE = "collected.json"


def lane_folder(output: Path, number: int) -> Path:
    """Where lane ``number`` (0 is the profile's own agents) writes its run folder."""
    return output / LANES_FOLDER / str(number + 1)


def lane_folders(output: Path) -> list[tuple[int, Path]]:
    """The lane folders a run left in ``output``, by lane number."""
    found = []
    for folder in sorted((output / LANES_FOLDER).glob("*")):
        if folder.is_dir() and folder.name.isdigit() and int(folder.name) >= 1:
            found.append((int(folder.name) - 1, folder))
    return sorted(found)


def heaviest_first(
    nodeids: list[str],
    weights: dict[str, float],
    long: frozenset[str] = frozenset(),
    generated: frozenset[str] = frozenset(),
) -> list[int]:
    """The order in which lanes take the tests: the longest first (weights: an earlier run's
    durations; a test it did not run counts as the average one), then in their given order.
    Each lane takes the next test as it becomes free, so the lanes end about together. With no
    earlier run, the tests that say they run long (``long``: the `long` marker) go first, then
    those Hypothesis generates examples for (``generated``: many transfers each, where the
    others make a few): one of them started last would keep its lane busy after the others
    are done (at 300 ms an answer, 6 lanes ended 29 s apart when they went in their order)."""
    if not weights:
        return sorted(
            range(len(nodeids)),
            key=lambda index: (nodeids[index] not in long, nodeids[index] not in generated, index),
        )
    known = [weights[nodeid] for nodeid in nodeids if nodeid in weights]
    usual = sum(known) / len(known) if known else 1.0
    return sorted(range(len(nodeids)), key=lambda index: (-weights.get(nodeids[index], usual), index))


# The tests marked `heavy` (the Schemathesis contract: its generation caches grow a process by
# 50 MB and more of native memory) go to the first HEAVY_LANES lanes only, which take them before
# any other; the other lanes stay small, so that a run of six lanes keeps within its memory.
HEAVY_LANES = 2


def lane_queues(
    order: list[int], heavy: frozenset[int], lane: int, lanes: int
) -> list[tuple[bool, list[int]]]:
    """The queues lane ``lane`` of ``lanes`` takes its tests from, one after the other, each as
    (whether it is the heavy tests' queue, the tests in ``order``). Up to HEAVY_LANES lanes share
    one queue of every test; beyond, the first HEAVY_LANES lanes empty the heavy tests' queue,
    then join the others on the queue of the rest."""
    if lanes <= HEAVY_LANES:
        return [(False, order)]
    rest = [index for index in order if index not in heavy]
    if lane >= HEAVY_LANES:
        return [(False, rest)]
    return [(True, [index for index in order if index in heavy]), (False, rest)]


# A run hands its lanes the numbers 0, 1, 2, ... through a pipe, 4 bytes each, written before
# they start (16 KiB: within any system's pipe buffer, so the write never waits), one pipe a
# queue: a lane takes a test by reading the queue's next number, which no other lane can then
# read. Tests beyond these are never taken, and marked not run.
CLAIMS = 4096


class LaneTaker:
    """The tests one lane takes, in turn from each of its queues (lane_queues): each queue's
    numbers come from its own pipe (``heavy_pipe`` for the heavy tests' queue)."""

    def __init__(self, queues: list[tuple[bool, list[int]]], pipe: int, heavy_pipe: int | None) -> None:
        self.queues = list(queues)
        self.pipe, self.heavy_pipe = pipe, heavy_pipe

    def next(self) -> int | None:
        """The index of the next test this lane runs, or None when its queues are empty."""
        while self.queues:
            of_heavy, queue = self.queues[0]
            pipe = self.heavy_pipe if of_heavy else self.pipe
            number = claim(pipe) if pipe is not None else None
            if number is not None and number < len(queue):
                return queue[number]
            self.queues.pop(0)
        return None


def claims_pipe() -> int:
    """A pipe holding the numbers 0 to CLAIMS - 1, its writing end closed: one queue's claims."""
    read, write = os.pipe()
    os.write(write, b"".join(number.to_bytes(4, "big") for number in range(CLAIMS)))
    os.close(write)
    return read


def claim(pipe: int) -> int | None:
    """The next number no lane has taken, or None when none is left."""
    taken = os.read(pipe, 4)
    return int.from_bytes(taken, "big") if len(taken) == 4 else None


def one_token() -> int:
    """A pipe holding one byte, its writing end closed: the first lane to read it has it, and
    every later read finds the pipe empty and ended (never waits)."""
    read, write = os.pipe()
    os.write(write, b"1")
    os.close(write)
    return read


def took_token(pipe: int) -> bool:
    return os.read(pipe, 1) == b"1"


def write_collected(folder: Path, collected: dict[str, str | None]) -> None:
    """What the lanes collected (test -> rule), for the run to tell which tests no lane took."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomically(folder / COLLECTED_FILE, json.dumps(collected))


def read_collected(folders: list[Path]) -> dict[str, str | None]:
    for folder in folders:
        try:
            return dict(json.loads((folder / COLLECTED_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
    return {}


def durations(path: Path | None) -> dict[str, float]:
    """Each test's duration in the run summary at ``path`` (none when there is none)."""
    summary = RunSummary.load(path) if path is not None else None
    return {result.nodeid: result.duration_s for result in summary.results} if summary else {}


def merge_summaries(
    lanes: list[tuple[int, RunSummary | None]],
    collected: dict[str, str | None] | None = None,
    interrupted: bool = False,
) -> RunSummary:
    """One summary of the lanes' own: every result (naming its lane), the requests of all,
    and what stopped or broke any lane, said with the lane's number; a ``collected`` test no
    lane took is broken, not run."""
    present = [(number, summary) for number, summary in lanes if summary is not None]
    merged = copy.deepcopy(present[0][1]) if present else RunSummary()
    merged.results, merged.interference = [], []
    merged.requests_sent, merged.request_seconds = 0, 0.0
    errors: dict[str, list[int]] = {}
    stops: dict[str, list[int]] = {}
    writes: dict[str, list[int]] = {}
    for number, summary in lanes:
        if summary is None:
            errors.setdefault("ended without writing its summary", []).append(number)
            continue
        for result in summary.results:
            result.lane = number
        merged.results += summary.results
        merged.requests_sent += summary.requests_sent
        merged.request_seconds += summary.request_seconds
        merged.interference += [f"lane {number + 1}: {sign}" for sign in summary.interference]
        merged.started = min(merged.started, summary.started) if merged.started else summary.started
        merged.finished = max(merged.finished, summary.finished)
        for found, text in (
            (errors, summary.setup_error),
            (stops, summary.stopped),
            (writes, summary.write_error),
        ):
            if text:
                found.setdefault(text, []).append(number)
    taken = {result.nodeid for result in merged.results}
    why = "not run: " + (
        said_by_lanes(stops)
        or ("the run was interrupted (SIGINT or SIGTERM)" if interrupted else "no lane took it")
    )
    for nodeid, rule_id in (collected or {}).items():
        if nodeid not in taken and not errors:
            merged.results.append(
                Result.of_rule(nodeid, Outcome.BROKEN, rules().get(rule_id or ""), message=why)
            )
    merged.results.sort(key=lambda result: result.nodeid)
    merged.setup_error, merged.stopped = said_by_lanes(errors), said_by_lanes(stops)
    merged.write_error = said_by_lanes(writes)
    return merged


def said_by_lanes(found: dict[str, list[int]]) -> str:
    """What the lanes said, each thing once, led by the lanes that said it ("lanes 1 and 2: …")."""
    parts = []
    for text, numbers in found.items():
        names = [str(number + 1) for number in numbers]
        who = f"lane {names[0]}" if len(names) == 1 else f"lanes {', '.join(names[:-1])} and {names[-1]}"
        parts.append(f"{who}: {text}")
    return "; ".join(parts)


def merge_junit(sources: list[Path], target: Path) -> None:
    """One JUnit file of the lanes' own: their test cases in one suite, the counts summed and
    the time the longest lane's."""
    trees = [parse_xml(path) for path in sources if path.is_file()]
    if not trees:
        return
    root = ElementTree.Element("testsuites")
    suite = ElementTree.SubElement(root, "testsuite", name="pytest")
    totals = dict.fromkeys(("errors", "failures", "skipped", "tests"), 0)
    longest = 0.0
    for tree in trees:
        for found in tree.getroot().iter("testsuite"):
            for key in totals:
                totals[key] += int(found.get(key, "0"))
            longest = max(longest, float(found.get("time", "0")))
            for name in ("timestamp", "hostname"):
                if found.get(name) and not suite.get(name):
                    suite.set(name, found.get(name, ""))
            for case in found.iter("testcase"):
                suite.append(_copy(case))
    for key, value in totals.items():
        suite.set(key, str(value))
    suite.set("time", f"{longest:.3f}")
    write_text_atomically(target, ElementTree.tostring(root, encoding="unicode", xml_declaration=True))


def _copy(element: ElementTree.Element) -> ElementTree.Element:
    """An element parsed by defusedxml as a plain ElementTree element."""
    plain = ElementTree.Element(element.tag, dict(element.attrib))
    plain.text, plain.tail = element.text, element.tail
    for child in element:
        plain.append(_copy(child))
    return plain


def merge_har(sources: list[Path], target: Path) -> None:
    """One HAR of the lanes' own: every entry, in the order the requests started."""
    logs = []
    for path in sources:
        try:
            logs.append(json.loads(path.read_text(encoding="utf-8"))["log"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if not logs:
        return
    merged = dict(logs[0])
    merged["entries"] = sorted(
        (entry for log in logs for entry in log.get("entries", [])),
        key=lambda entry: str(entry.get("startedDateTime", "")),
    )
    write_text_atomically(target, json.dumps({"log": merged}))


def merge_results(sources: list[Path], target: Path) -> None:
    """The lanes' Allure results in one folder (their files have names of their own; the run's
    environment and categories files, alike in every lane, once)."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in sources:
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file():
                shutil.move(str(path), target / path.name)


def merge(output: Path, lanes: int, interrupted: bool = False) -> RunSummary:
    """Make ``output`` the run folder of the ``lanes`` lanes' folders; the merged summary
    (saved as ``output``'s summary)."""
    folders = [lane_folder(output, number) for number in range(lanes)]
    summaries = [(number, RunSummary.load(folder / SUMMARY_FILE)) for number, folder in enumerate(folders)]
    summary = merge_summaries(summaries, read_collected(folders), interrupted)
    summary.save(output / SUMMARY_FILE)
    merge_junit([folder / JUNIT_FILE for folder in folders], output / JUNIT_FILE)
    merge_har([folder / HAR_FILE for folder in folders], output / HAR_FILE)
    merge_results([folder / RESULTS_FOLDER for folder in folders], output / RESULTS_FOLDER)
    return summary
