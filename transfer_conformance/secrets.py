"""Secrets never leave the run: every value registered here is replaced by a placeholder.

Placeholders are shell variables (`$LP_BEARER`), so a masked curl command runs as is once the
reader exports them (README "Reproduce a request").
"""

from __future__ import annotations

import re
import threading
from typing import Any

# Header and JSON keys whose values are secret whatever they hold.
SECRET_KEYS = re.compile(
    r"^(authorization|cookie|set-cookie|password|bearer|csrf|appkey|secret|token|accesstoken|accesstokensecret)$",
    re.I,
)
MASK = "***"


class SecretRegistry:
    """Known secret values and the placeholder each one becomes."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def register(self, value: str | None, placeholder: str) -> None:
        # Very short values would mask innocent text; no real secret is that short.
        if not value or len(value) < 6:
            return
        with self._lock:
            self._values[value] = placeholder
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def placeholder(self, value: str) -> str | None:
        return self._values.get(value)

    def mask(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(lambda match: self._values[match.group(0)], text)

    def mask_data(self, value: Any) -> Any:
        """Mask a JSON-like value: secret keys wholesale, every string by the registry."""
        if isinstance(value, dict):
            return {
                key: (MASK if isinstance(key, str) and SECRET_KEYS.match(key) else self.mask_data(item))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.mask_data(item) for item in value]
        if isinstance(value, str):
            return self.mask(value)
        return value

    def values(self) -> list[str]:
        return list(self._values)


REGISTRY = SecretRegistry()
