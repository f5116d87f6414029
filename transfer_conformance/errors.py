"""The exit codes every command shares, and the errors that end a command carrying theirs.

A command raises; `cli.main` is the one place that turns an error into its line and exit code,
so no command translates errors itself.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of `transfer-conformance run` (and of its other commands)."""

    OK = 0
    VIOLATION = 1
    USAGE = 2
    BROKEN = 3


class ConformanceError(Exception):
    """An error that ends a command; its class says which exit code it means."""

    exit_code: ExitCode = ExitCode.BROKEN
    # what the line on stderr starts with
    label = "BROKEN"


class UsageError(ConformanceError):
    """The command line, a profile or a file given is wrong: nothing was sent (exit 2)."""

    exit_code = ExitCode.USAGE
    label = "error"


class ConfigError(UsageError):
    """A file the user wrote (a profile, known issues) cannot work; it names the file and key."""


class BrokenError(ConformanceError):
    """The target or the set-up failed before a rule could be judged (exit 3)."""

    exit_code = ExitCode.BROKEN
    label = "BROKEN"
