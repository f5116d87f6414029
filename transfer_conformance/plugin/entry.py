"""The suite as a plain pytest plugin (the `pytest11` entry point): `pytest --pyargs
transfer_conformance.suites --target reference` runs the suites with the options of
`transfer-conformance run`, declared once in `plugin.options`.

Inert unless asked: in a session without `--target` it adds its options and nothing else, so
an unrelated test session on the same machine is untouched.
"""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from transfer_conformance.errors import ConformanceError
from transfer_conformance.plugin.options import RunOptions, add_arguments
from transfer_conformance.plugin.session import plugins_for
from transfer_conformance.target_api.profile import load_profile

# pytest's own `--strict` is taken; Hypothesis' `--hypothesis-seed` is the seed; the rest are
# the command's own (the report, known issues and discover are the command's business).
RENAMED = {"--strict": "--strict-rules"}
LEFT_OUT = {"--seed", "--no-report", "--known-issues", "--discover"}
PREFIX = "tc_"


class _Options:
    """`add_arguments` declares onto this, and it hands each option to pytest's parser."""

    def __init__(self, group: Any) -> None:
        self.group = group
        self.dests: list[str] = []

    def add_argument(self, flag: str, **settings: Any) -> None:
        if flag in LEFT_OUT:
            return
        dest = flag.lstrip("-").replace("-", "_")
        self.dests.append(dest)
        if flag == "--target":
            settings["default"] = None  # no --target: the plugin stays inert
        self.group.addoption(RENAMED.get(flag, flag), dest=PREFIX + dest, **settings)


_DESTS: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    options = _Options(parser.getgroup("transfer-conformance", "Transfer a Chat conformance"))
    add_arguments(options)  # type: ignore[arg-type]
    _DESTS[:] = options.dests


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, PREFIX + "target", None) is None:
        return
    given = {dest: getattr(config.option, PREFIX + dest) for dest in _DESTS}
    args = argparse.Namespace(**given, seed=None, no_report=True, known_issues=None, discover=None)
    options = RunOptions.from_arguments(args)
    try:
        profile = load_profile(options.target)
    except ConformanceError as error:
        raise pytest.UsageError(str(error)) from None
    if options.target_url:
        profile.with_url(options.target_url)
    if options.ignore_decisions:
        profile.decisions = {}
    seed = getattr(config.option, "hypothesis_seed", None)
    for plugin in plugins_for(options, profile, "derandomized" if seed is None else str(seed)):
        config.pluginmanager.register(plugin)
