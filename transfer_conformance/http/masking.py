"""Secrets never leave the run: every value registered here is replaced by a placeholder.

Placeholders are shell variables (`$LP_BEARER`), so a masked curl command runs as is once the
reader exports them (README "Reproduce a request").
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

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
        # the forms as of the last registration: read without the lock while threads register
        self._forms: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def register(self, value: str | None, placeholder: str) -> None:
        """Mask ``value``, and every form it takes on the way: URL-encoded, JSON- and
        HTML-escaped, base64 (alone or inside a longer base64 text)."""
        # Very short values would mask innocent text; no real secret is that short.
        if not value or len(value) < 6:
            return
        with self._lock:
            for form in encoded_forms(value):
                self._values.setdefault(form, placeholder)
            self._forms = tuple(self._values)

    def placeholder(self, value: str) -> str | None:
        return self._values.get(value)

    def mask(self, text: str) -> str:
        if not text:
            return text
        # Which secrets the text holds first, each by a plain substring search, and a pattern
        # of those alone: most texts hold none, and one pattern of every form registered (a
        # hundred for a run's logins, more after each new bearer) tried at every character
        # cost four times as much on a text of 1.5 KB.
        present = [form for form in self._forms if form in text]
        if not present:
            return text
        present.sort(key=len, reverse=True)
        pattern = _pattern_of(tuple(present))
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


@functools.lru_cache(maxsize=256)
def _pattern_of(forms: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern of ``forms``, longest first (a form inside a longer one is masked as part of it)."""
    return re.compile("|".join(re.escape(form) for form in forms))


def encoded_forms(value: str) -> set[str]:
    """The value and the encodings it may be echoed in (forms shorter than 6 are left out)."""
    raw = value.encode("utf-8")
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    # Inside a longer base64 text the value starts at any of three byte offsets; the
    # characters that encode whole 3-byte groups of the value alone are the same every time.
    for start in range(3):
        usable = raw[start:]
        whole = len(usable) // 3 * 3
        if whole >= 6:
            forms.add(base64.b64encode(usable[:whole]).decode())
            forms.add(base64.urlsafe_b64encode(usable[:whole]).decode())
    return {form for form in forms if len(form) >= 6}


REGISTRY = SecretRegistry()
