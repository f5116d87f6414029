"""The one HTTP client of the suite: records every exchange, masks secrets, builds curl.

Every request the suite sends goes through RecordingClient, so the report, the failure
messages and `file-regression` all show the same masked request and its curl reproduction.
Set-up calls may retry (connection errors, 429, 5xx); a request under test never does.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from pyrate_limiter import Duration, Limiter, Rate
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from transfer_conformance.secrets import REGISTRY, SecretRegistry

MAX_RECORDED_BODY = 16_384
PLACEHOLDER = re.compile(r"\$LP_[A-Z0-9_]+")


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def plain_session() -> requests.Session:
    """A requests session that keeps no cookies and reads the environment once, not per request.

    The bearer alone must authorise every call (decision-cookies-optional). requests looks up
    the environment on every request (a scan of all of it): the CA bundle it would find there
    (REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE) is set once instead, and the per-request lookup
    stays only where a proxy variable asks for it.
    """
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    session.trust_env = any(name.lower() in PROXY_VARIABLES for name in os.environ)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


class TargetUnreachable(Exception):
    """The target did not answer at all (refused, timed out, DNS): an environment problem."""


def _text(data: bytes | None) -> str:
    if not data:
        return ""
    text = data.decode("utf-8", errors="replace")
    if len(text) > MAX_RECORDED_BODY:
        return text[:MAX_RECORDED_BODY] + f"\n… ({len(text) - MAX_RECORDED_BODY} more characters)"
    return text


def masked_body(data: bytes | None, secrets: SecretRegistry) -> str:
    """A body for the record: JSON with secret keys masked wholesale (a login answer's bearer
    is not registered yet when it arrives), every known secret value masked."""
    text = _text(data)
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.dumps(secrets.mask_data(json.loads(text)), ensure_ascii=False)
        except ValueError:
            pass
    return secrets.mask(text)


def shell_word(value: str) -> str:
    """Quote for a POSIX shell, leaving $LP_* placeholders to expand."""
    if not PLACEHOLDER.search(value):
        return shlex.quote(value)
    escaped = re.sub(r'(["\\`])', r"\\\1", value)
    escaped = re.sub(r"\$(?!LP_[A-Z0-9_]+)", r"\\$", escaped)
    return f'"{escaped}"'


@dataclass
class Exchange:
    """One request and its answer, already masked."""

    title: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_ms: float = 0.0
    error: str = ""
    content: bytes = field(default=b"", repr=False)

    @property
    def curl(self) -> str:
        parts = ["curl", "-sS", "-i", "-X", self.method, shell_word(self.url)]
        for name, value in self.request_headers.items():
            parts += ["-H", shell_word(f"{name}: {value}")]
        if self.request_body:
            parts += ["--data-binary", shell_word(self.request_body)]
        return " ".join(parts)

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "").split(";")[0].strip().lower()

    def summary(self) -> str:
        status = self.status if self.status is not None else f"no answer ({self.error})"
        return f"{self.method} {self.url} -> {status}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "method": self.method,
            "url": self.url,
            "request_headers": self.request_headers,
            "request_body": self.request_body,
            "status": self.status,
            "response_headers": self.response_headers,
            "response_body": self.response_body,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "error": self.error,
            "curl": self.curl,
        }


Listener = Callable[[Exchange], None]


class RecordingClient:
    def __init__(
        self,
        timeout_s: float = 10.0,
        requests_per_second: float = 0,
        secrets: SecretRegistry = REGISTRY,
    ) -> None:
        self.timeout_s = timeout_s
        self.secrets = secrets
        self.listeners: list[Listener] = []
        self.history: list[Exchange] = []
        # Over the whole run: requests answered or failed, and the time spent waiting for them.
        self.sent = 0
        self.waited_s = 0.0
        self._limiter = (
            Limiter(Rate(int(requests_per_second), Duration.SECOND)) if requests_per_second else None
        )
        self._plain = self._session(retries=0)
        self._retrying = self._session(retries=3)

    @staticmethod
    def _session(retries: int) -> requests.Session:
        session = plain_session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.5,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=None,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=8)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def forget_history(self) -> None:
        self.history.clear()

    def send(
        self,
        method: str,
        url: str,
        *,
        title: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        setup: bool = False,
    ) -> Exchange:
        headers = dict(headers or {})
        masked_headers = {name: self.secrets.mask(value) for name, value in headers.items()}
        exchange = Exchange(
            title=self.secrets.mask(title),
            method=method,
            url=self.secrets.mask(url),
            request_headers=masked_headers,
            request_body=masked_body(body, self.secrets),
        )
        if self._limiter is not None:
            self._limiter.try_acquire("target")
        session = self._retrying if setup else self._plain
        started = time.perf_counter()
        try:
            response = session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=self.timeout_s,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            exchange.elapsed_ms = (time.perf_counter() - started) * 1000
            exchange.error = self.secrets.mask(f"{type(exc).__name__}: {exc}")
            self._record(exchange)
            raise TargetUnreachable(f"{method} {exchange.url}: {exchange.error}") from None
        exchange.elapsed_ms = (time.perf_counter() - started) * 1000
        exchange.status = response.status_code
        exchange.response_headers = self._masked_answer_headers(response.headers)
        exchange.content = response.content
        exchange.response_body = masked_body(response.content, self.secrets)
        self._record(exchange)
        return exchange

    def record_external(
        self,
        title: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        response: Any,
    ) -> Exchange:
        """Record a request another library (Schemathesis) sent, masked like our own."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        answer_headers = {
            name: ", ".join(value) if isinstance(value, list) else str(value)
            for name, value in response.headers.items()
        }
        exchange = Exchange(
            title=self.secrets.mask(title),
            method=method,
            url=self.secrets.mask(url),
            request_headers={name: self.secrets.mask(str(v)) for name, v in headers.items()},
            request_body=masked_body(body, self.secrets),
            status=response.status_code,
            response_headers=self._masked_answer_headers(answer_headers),
            response_body=masked_body(response.content, self.secrets),
            elapsed_ms=float(getattr(response, "elapsed", 0) or 0) * 1000,
            content=response.content,
        )
        self._record(exchange)
        return exchange

    def _masked_answer_headers(self, headers: Any) -> dict[str, str]:
        """Response headers, lower-cased names, cookies hidden and known secrets masked."""
        return {
            name.lower(): ("***" if name.lower() == "set-cookie" else self.secrets.mask(value))
            for name, value in headers.items()
        }

    def _record(self, exchange: Exchange) -> None:
        self.sent += 1
        self.waited_s += exchange.elapsed_ms / 1000
        self.history.append(exchange)
        for listener in self.listeners:
            listener(exchange)
