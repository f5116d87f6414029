"""TOML files that may extend another (`extends = "other.toml"`, relative to the file).

Target profiles and reference seeds share it: a staging region or a reference variant states
only where it differs from its base. Tables merge key by key; any other value replaces the
base's.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

MAX_DEPTH = 8


class TomlFileError(ValueError):
    """A file that cannot be read, is not TOML, or extends in a loop."""


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def read_toml(path: Path, _depth: int = 0) -> dict[str, Any]:
    """The file's tables, merged over those of the file it extends (if any)."""
    if _depth > MAX_DEPTH:
        raise TomlFileError(f"{path.name}: extends more than {MAX_DEPTH} files deep (a loop?)")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError(f"{path.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise TomlFileError(f"{path}: cannot be read: {exc.strerror}") from None
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise TomlFileError(f"{path.name}: extends must be a file name")
    return merged(read_toml((path.parent / base).resolve(), _depth + 1), data)
