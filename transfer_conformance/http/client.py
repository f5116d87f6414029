"""The one HTTP client of the suite: records every exchange, masks secrets, builds curl.

Every request the suite sends goes through RecordingClient, so the report, the failure
messages and `file-regression` all show the same masked request and its curl reproduction.
Set-up calls may retry (connection errors, 429, 5xx); a request under test never does.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shlex
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for_all
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ProtocolError, ReadTimeoutError
from urllib3.util.retry import Retry

from transfer_conformance.errors import BrokenError
from transfer_conformance.http.masking import REGISTRY, SecretRegistry

if TYPE_CHECKING:
    from pyrate_limiter import Limiter

MAX_RECORDED_BODY = 16_384
# How long clean-up may still talk to the target once a deadline has passed.
CLEAN_UP_GRACE_S = 30.0
PLACEHOLDER = re.compile(r"\$LP_[A-Z0-9_]+")
# Set when the run is asked to stop (Ctrl-C, SIGTERM; commands/run.py). The signal's
# KeyboardInterrupt can be lost (in a finalizer Python only prints it; under load a lane of a
# stopped run once went on with every test it had left): so each test and each example also
# looks here before it starts (plugin/session.py, target_api/harness.py).
STOP_REQUESTED = threading.Event()

# Requests in a row without an answer (timeouts, refused or reset connections) that make an outage.
OUTAGE_AFTER = 3


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class TargetUnreachable(BrokenError):
    """The target did not answer at all (refused, timed out, DNS): an environment problem."""


class UndecodableResponse(ValueError):
    """An answer the suite cannot read. In a test it violates the test's rule (the rule's
    response must be readable to be judged); in set-up it leaves the run broken."""

    def __init__(self, reason: str, exchange: Exchange) -> None:
        super().__init__(reason)
        self.reason = reason
        self.exchange = exchange


class TargetDown(TargetUnreachable):
    """The target stopped answering during the run (an outage): the run ends broken."""


class TargetMisbehaved(TargetUnreachable):
    """The target answered in a way the suite will not follow: too slowly for the deadline,
    too large, or with a link to an origin the profile does not name. Broken, exit 3."""


DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024


def read_bounded(response: requests.Response, max_bytes: int, seconds: float) -> bytes:
    """The whole body, streamed: stopped past ``seconds`` from now (a trickling target) or past
    ``max_bytes`` (a huge or endless one), so neither time nor memory runs away.

    A connection the target closes or resets once its answer has begun keeps the answer (its
    status and what came of its body): the target answered, and is judged on it;
    ``response.cut_short`` says how it ended.
    """
    deadline = time.perf_counter() + seconds
    chunks, size = [], 0
    try:
        for chunk in _arriving(response):
            size += len(chunk)
            if size > max_bytes:
                raise TargetMisbehaved(f"the response is larger than {max_bytes} bytes")
            if time.perf_counter() > deadline:
                raise TargetMisbehaved(f"the response took longer than {seconds:g} s")
            chunks.append(chunk)
    except ReadTimeoutError:
        raise TargetMisbehaved(f"the response stalled for longer than {seconds:g} s") from None
    except (ProtocolError, requests.RequestException) as exc:
        response.cut_short = f"the target closed the connection in the middle of its answer ({exc})"  # type: ignore[attr-defined]
    finally:
        response.close()
    return b"".join(chunks)


# What OpenSSL says when the other end answered TLS with plain HTTP.
WRONG_TLS_VERSION = "WRONG_VERSION_NUMBER"


def _no_answer(exc: Exception, seconds: float, url: str) -> str:
    """Why a request got no answer, in words (no exception class names on a console)."""
    if isinstance(exc, TargetMisbehaved):
        return str(exc)
    # requests wraps urllib3's reason (a read timeout under "max retries", say): look under it.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.Timeout) or isinstance(reason, ReadTimeoutError | TimeoutError):
        return f"no answer within {seconds:g} s"
    if isinstance(exc, requests.exceptions.SSLError):
        if url.startswith("https://") and WRONG_TLS_VERSION in str(exc).upper():
            return f"TLS failed: the port speaks plain HTTP (did you mean http://{url.removeprefix('https://').split('/')[0]}?)"
        return "TLS failed (does the URL's scheme match the port: http or https?)"
    if isinstance(exc, requests.ConnectionError):
        cause = str(reason or exc)
        for words, says in (
            ("Connection refused", "the connection was refused"),
            ("Connection reset", "the connection was reset"),
            ("Name or service not known", "the host name does not resolve"),
            ("RemoteDisconnected", "the target closed the connection without answering"),
        ):
            if words in cause:
                return says
        return "the connection failed"
    return "the request failed"


def _arriving(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: each piece as soon as the socket has some (a trickle is seen
    byte by byte, so its deadline holds), decoded as its Content-Encoding says."""
    raw = response.raw
    while True:
        chunk = raw.read1(65536, decode_content=True)
        if not chunk:
            return
        yield chunk


class BoundedAdapter(HTTPAdapter):
    """Every body read by the adapter itself, bounded (read_bounded), even when a stream was
    asked for: for the suite's own requests and for Schemathesis' alike, whoever reads
    ``response.content`` afterwards.

    The body gets the request's timeout again from its headers on: the wait before them is
    bounded already (the timeout per attempt, the retries, the capped Retry-After).
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_bytes = max_bytes

    def send(
        self, request: Any, stream: bool = False, timeout: Any = None, **kwargs: Any
    ) -> requests.Response:
        # Whatever the caller asked: Schemathesis asks for a stream and then reads it all.
        response = super().send(request, stream=True, timeout=timeout, **kwargs)
        seconds = timeout[-1] if isinstance(timeout, tuple) else timeout
        response._content = read_bounded(response, self.max_bytes, float(seconds or 30.0))
        response._content_consumed = True
        return response


def plain_session(
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, retries: Retry | int = 0, pool_maxsize: int = 10
) -> requests.Session:
    """A requests session that keeps no cookies, reads every body bounded (BoundedAdapter),
    and reads the environment once, not per request.

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
    adapter = BoundedAdapter(max_response_bytes, max_retries=retries, pool_maxsize=pool_maxsize)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class RetryBudget:
    """Retry-After honoured up to ``cap_s`` a time and ``total_s`` over the whole run, so a
    target asking to wait six hours cannot stall a nightly run."""

    def __init__(self, cap_s: float, total_s: float) -> None:
        self.cap_s = cap_s
        self.remaining_s = total_s

    def take(self, wanted_s: float) -> float:
        granted = max(0.0, min(wanted_s, self.cap_s, self.remaining_s))
        self.remaining_s -= granted
        return granted


def bounded_retry(retries: int, budget: RetryBudget) -> Retry:
    """urllib3's Retry whose Retry-After waits come out of ``budget`` (copies keep it: it is a
    class attribute of a class made for this budget)."""

    class BoundedRetry(Retry):
        def get_retry_after(self, response: Any) -> float | None:
            wanted = super().get_retry_after(response)
            return None if wanted is None else budget.take(wanted)

        def increment(
            self,
            method: str | None = None,
            url: str | None = None,
            response: Any = None,
            error: Exception | None = None,
            _pool: Any = None,
            _stacktrace: Any = None,
        ) -> Retry:
            # TLS spoken to a port that speaks plain HTTP fails the same way every time: the
            # retries only delayed the message that says so (did you mean http://?) by 3.5 s.
            # Other TLS failures (a handshake cut short by a busy proxy) are still retried.
            if error is not None and WRONG_TLS_VERSION in str(error).upper():
                raise MaxRetryError(_pool, url or "", error) from error
            return super().increment(method, url, response, error, _pool, _stacktrace)

    return BoundedRetry(
        total=retries,
        connect=retries,
        # A request that got no answer in time is not sent again: the target may have carried
        # it out (a second chat requested), and a dead target would cost every retry's timeout.
        read=0,
        status=retries,
        backoff_factor=0.5,
        backoff_max=5,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


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
    started: float = field(default_factory=time.time)
    content: bytes = field(default=b"", repr=False)
    # Cookies the answer set, unmasked for the harness's own use (never recorded or shown).
    cookies: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def curl(self) -> str:
        parts = ["curl", "-sS", "-i", "-X", self.method, shell_word(self.url)]
        for name, value in self.request_headers.items():
            parts += ["-H", shell_word(f"{name}: {value}")]
        if self.request_body:
            parts += ["--data-binary", shell_word(self.request_body)]
        return " ".join(parts)

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise UndecodableResponse(f"not JSON: {exc}", self) from None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def request_content_type(self) -> str:
        """The request's Content-Type as sent (headers keep the case the caller gave)."""
        return next((v for k, v in self.request_headers.items() if k.lower() == "content-type"), "")

    def summary(self) -> str:
        status = self.status if self.status is not None else f"no answer ({self.error})"
        return f"{self.method} {self.url} -> {status}"


Listener = Callable[[Exchange], None]


def rate_limiter(requests_per_second: float) -> Limiter:
    """One request per interval. Imported here: most targets set no rate limit, and the
    library costs every run's start-up a tenth of a second otherwise."""
    from pyrate_limiter import Duration, Limiter, Rate

    # Duration is a plain Enum in pyrate-limiter 4: its milliseconds are its int value
    return Limiter(Rate(1, max(1, round(int(Duration.SECOND) / requests_per_second))))


T = TypeVar("T")
# Set in the client's own worker threads: a call made there runs its inner calls one by one
# (a worker waiting on work queued behind it would wait forever).
_pooled = threading.local()


def _in_pool(call: Callable[[], T]) -> T:
    _pooled.active = True
    try:
        return call()
    finally:
        _pooled.active = False


class RecordingClient:
    def __init__(
        self,
        timeout_s: float = 10.0,
        requests_per_second: float = 0,
        secrets: SecretRegistry = REGISTRY,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry_budget: RetryBudget | None = None,
        concurrency: int = 1,
    ) -> None:
        self.timeout_s = timeout_s
        # Requests one test may have in flight at once (together()); 1 sends one at a time.
        self.concurrency = max(1, int(concurrency))
        self._pool: ThreadPoolExecutor | None = None
        self._count_lock = threading.Lock()
        self.max_response_bytes = max_response_bytes
        # Monotonic times after which no request starts: the test's and the run's.
        self.test_deadline: float | None = None
        self.run_deadline: float | None = None
        self.retry_budget = retry_budget or RetryBudget(cap_s=30, total_s=120)
        self.secrets = secrets
        self.listeners: list[Listener] = []
        self.history: list[Exchange] = []
        # The test's requests (not set-up's) that the target answered with a 5xx or cut short:
        # the target's doing, judged against the test's rule (plugin.results).
        self.server_errors: list[Exchange] = []
        # Requests in a row that got no answer, and the outage they add up to (then nothing
        # more is sent but clean-up: the run ends broken instead of waiting out every test).
        self.unanswered = 0
        self.outage = ""
        # Over the whole run: requests answered or failed, and the time spent waiting for them.
        self.sent = 0
        self.waited_s = 0.0
        # One request per interval: fractional rates (0.5 a second) pace as well as whole ones.
        self._limiter = rate_limiter(requests_per_second) if requests_per_second else None
        self._plain = self._session(retries=0)
        self._retrying = self._session(retries=3)
        self._grace_depth = 0
        # Clean-up an example left for later (Harness.example): it runs before this client
        # sends or overlaps anything else, so nothing sent afterwards can see it undone.
        self.pending: Callable[[], None] | None = None

    def settle(self) -> None:
        """Run the clean-up left pending, if any (in the calling thread, once)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending()

    def _session(self, retries: int) -> requests.Session:
        pool = max(8, self.concurrency)
        return plain_session(self.max_response_bytes, bounded_retry(retries, self.retry_budget), pool)

    def together(self, *calls: Callable[[], T]) -> list[T]:
        """Independent calls at once, at most ``concurrency`` in flight: a far target's latency
        is paid once for them, not once each. The results come in the calls' order; every call
        has ended when this returns (none is left in flight), and the first failure in the
        calls' order is raised. Only for calls whose order cannot change what they find (reads
        of a state nothing else changes meanwhile, or chats of their own): the verdicts are
        then those of the same calls one by one.
        """
        if getattr(_pooled, "active", False):
            return [call() for call in calls]
        self.settle()
        if self.concurrency <= 1 or len(calls) <= 1:
            return [call() for call in calls]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="target")
        futures = [self._pool.submit(_in_pool, call) for call in calls]
        try:
            wait_for_all(futures)
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM) while calls are in flight: they end first, so that
            # what they did (a chat they opened) is known to the clean-up that follows.
            wait_for_all(futures)
            raise
        return [future.result() for future in futures]

    def close(self) -> None:
        """Stop the worker threads of together() (the client still sends one at a time)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

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
        if self.pending is not None and not getattr(_pooled, "active", False):
            self.settle()
        headers = dict(headers or {})
        masked_headers = {name: self.secrets.mask(value) for name, value in headers.items()}
        exchange = Exchange(
            title=self.secrets.mask(title),
            method=method,
            url=self.secrets.mask(url),
            request_headers=masked_headers,
            request_body=masked_body(body, self.secrets),
        )
        # In an outage nothing more is sent, but clean-up's one try: if the target answers it,
        # clean-up goes on; if not, no further request waits out its timeout.
        if self.outage and not (self.in_grace and self.unanswered <= OUTAGE_AFTER):
            exchange.error = f"not sent: {self.outage}"
            self._record(exchange)
            raise TargetDown(self.outage)
        budget = self.time_left()
        if budget <= 0:
            exchange.error = "not sent: the test's or the run's deadline leaves no time for it"
            self._record(exchange)
            raise TargetMisbehaved(f"{method} {exchange.url}: {exchange.error}")
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
                timeout=budget,
                allow_redirects=False,
            )
            content = response.content
        except (requests.RequestException, TargetMisbehaved) as exc:
            exchange.elapsed_ms = (time.perf_counter() - started) * 1000
            exchange.error = self.secrets.mask(_no_answer(exc, budget, url))
            self._record(exchange)
            self._unanswered(exchange)
            kind = TargetMisbehaved if isinstance(exc, TargetMisbehaved) else TargetUnreachable
            raise kind(f"{method} {exchange.url}: {exchange.error}") from None
        self.unanswered = 0
        exchange.elapsed_ms = (time.perf_counter() - started) * 1000
        exchange.status = response.status_code
        exchange.response_headers = self._masked_answer_headers(response.headers)
        exchange.content = content
        exchange.cookies = dict(response.cookies.items())
        exchange.response_body = masked_body(content, self.secrets)
        exchange.error = self.secrets.mask(getattr(response, "cut_short", ""))
        self._record(exchange)
        if not setup and (exchange.status >= 500 or exchange.error):
            self.server_errors.append(exchange)
        return exchange

    def _unanswered(self, exchange: Exchange) -> None:
        """Count a request that got no answer; enough in a row are an outage."""
        with self._count_lock:
            self.unanswered += 1
        if self.unanswered >= OUTAGE_AFTER and not self.outage:
            self.outage = (
                f"the target stopped answering: {self.unanswered} requests in a row got no answer "
                f"in time; the last: {exchange.method} {exchange.url}: {exchange.error}"
            )

    @property
    def in_grace(self) -> bool:
        return self._grace_depth > 0

    @contextlib.contextmanager
    def grace(self, seconds: float = CLEAN_UP_GRACE_S) -> Iterator[None]:
        """A short window past any deadline, so that clean-up still ends chats and logs out."""
        saved = self.test_deadline, self.run_deadline
        self.test_deadline, self.run_deadline = time.monotonic() + seconds, None
        # Clean-up still tries a dead target (a chat left open costs more than a few seconds).
        self._grace_depth += 1
        try:
            yield
        finally:
            self._grace_depth -= 1
            self.test_deadline, self.run_deadline = saved

    def remaining(self) -> float:
        """Seconds until the nearer of the test's and the run's deadlines (inf: neither is set)."""
        now = time.monotonic()
        return min(
            (d - now for d in (self.test_deadline, self.run_deadline) if d is not None), default=math.inf
        )

    def time_left(self) -> float:
        """Seconds a request may take now: its whole timeout, or 0 when that no longer fits
        before the test's or the run's deadline.

        A request is never cut short: one the target carried out but whose answer the suite
        dropped could leave a chat open that nobody knows of. So a deadline is overshot by at
        most one request's timeout.
        """
        now = time.monotonic()
        deadlines = [d - now for d in (self.test_deadline, self.run_deadline) if d is not None]
        return self.timeout_s if all(left >= self.timeout_s for left in deadlines) else 0.0

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
        elapsed_ms = float(getattr(response, "elapsed", 0) or 0) * 1000
        exchange = Exchange(
            title=self.secrets.mask(title),
            method=method,
            url=self.secrets.mask(url),
            request_headers={name: self.secrets.mask(str(v)) for name, v in headers.items()},
            request_body=masked_body(body, self.secrets),
            status=response.status_code,
            response_headers=self._masked_answer_headers(answer_headers),
            response_body=masked_body(response.content, self.secrets),
            elapsed_ms=elapsed_ms,
            content=response.content,
            # sent when the answer began, not when it is recorded (the HAR's timeline)
            started=time.time() - elapsed_ms / 1000,
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
        with self._count_lock:
            self.sent += 1
            self.waited_s += exchange.elapsed_ms / 1000
        self.history.append(exchange)
        for listener in self.listeners:
            listener(exchange)
