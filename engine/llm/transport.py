"""HTTP transport: error classes, full-jitter backoff with server hints, the transport retry loop.

Error classes: ``rate_limit`` (429, Ollama's 503 "busy"), ``transient`` (408, 409, 5xx, timeouts,
connection resets), ``unsupported`` (501, a 404 on a route, "does not support": the server lacks
the feature, e.g. llama.cpp without ``--embeddings``) and ``fatal`` (401, 403, unknown model, 400
schema rejected, context too long). Rate-limit and transient errors are retried here — they are
not attempts of the caller's parse/validate loop — and each retry is reported as a
``RetryWarning`` event.

The HTTP exchange itself goes through ``engine.llm.http.HttpClient`` (pyreqwest by default,
httpx as an alternative), one per replica, which maps its library's failures into these classes.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import orjson

from engine.errors import EndpointError
from engine.llm.events import RetryWarning
from engine.llm.scope import current_scope
from engine.llm.settings import RetryPolicy
from engine.redact import scrub

log = logging.getLogger("relsim.transport")

ErrorClass = Literal["rate_limit", "transient", "unsupported", "fatal"]
T = TypeVar("T")


class TransportError(Exception):
    """One failed HTTP exchange. ``reason`` is safe to show: it never holds a key."""

    def __init__(
        self,
        error_class: ErrorClass,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        breaker_open: bool = False,
        unreachable: bool = False,
    ) -> None:
        reason = scrub(reason)  # library messages may carry the URL, and so a key in its query
        super().__init__(reason)
        self.error_class = error_class
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        # Set by the endpoint when this failure left its breaker open: the retry that follows
        # parks instead of spending the retry budget.
        self.breaker_open = breaker_open
        # No connection could be made at all (refused, unknown host): nothing is listening.
        self.unreachable = unreachable


class Headers(Protocol):
    """A reply's headers as each HTTP library gives them: looked up case-insensitively."""

    def get(self, key: str, /) -> str | None: ...


@dataclass(slots=True)
class HttpReply:
    status: int
    headers: Headers
    body: bytes
    # Seconds from sending the request to the whole reply (set by the endpoint).
    elapsed_s: float = 0.0

    def json(self) -> Any:
        return orjson.loads(self.body)


_FATAL_CODES = (
    "context_length_exceeded",
    "model_not_found",
    "invalid_api_key",
    "insufficient_quota",
    "invalid_schema",
    "string_above_max_length",
)


def classify(status: int, body: bytes) -> ErrorClass | None:
    """The error class of an HTTP status (None for success)."""
    if status < 400:
        return None
    if status == 429:
        # OpenAI reports an exhausted quota as 429 too; retrying cannot help.
        return "fatal" if b"insufficient_quota" in body else "rate_limit"
    lowered = body.lower()
    if status == 503 and b"busy" in lowered:  # Ollama: "server busy, please try again"
        return "rate_limit"
    # The server lacks the feature: asking again cannot help, but the endpoint itself is fine.
    if status == 501 or b"does not support" in lowered or b"not supported" in lowered:
        return "unsupported"
    if status == 404 and b"model" not in lowered:  # no such route (a 404 naming a model is fatal)
        return "unsupported"
    if status in (408, 409) or status >= 500:
        return "transient"
    return "fatal"


def error_message(body: bytes) -> str:
    """The server's own message, shortened; OpenAI shape or plain text."""
    try:
        data = orjson.loads(body)
        err = data.get("error", data) if isinstance(data, dict) else data
        text = err.get("message") if isinstance(err, dict) else str(err)
    except (orjson.JSONDecodeError, AttributeError):
        text = body.decode("utf-8", "replace")
    # Servers echo requests in their errors (an Authorization header, a key in the URL).
    return scrub(" ".join(str(text or "").split()))[:200]


def retry_after_s(headers: Any, now: float | None = None) -> float | None:
    """The server's wait hint: ``retry-after-ms``, else ``retry-after`` (seconds or a date)."""
    if headers is None:
        return None
    raw = headers.get("retry-after-ms")
    if raw:
        try:
            return max(0.0, float(raw) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def backoff_s(retry: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base·2^retry)] (retry counts from 0)."""
    ceiling = min(policy.cap_s, policy.base_s * (2.0**retry))
    return (rng or random).random() * ceiling


def wait_for(err: TransportError, retry: int, policy: RetryPolicy) -> float:
    """How long to wait before retrying after ``err``: the server's hint wins over backoff."""
    if err.breaker_open:
        return 0.0  # the breaker parks the next attempt until the endpoint is back
    if err.retry_after is not None:
        return min(err.retry_after, policy.max_hint_s)
    return backoff_s(retry, policy)


async def with_retries(
    send: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    purpose: str,
    endpoint: str,
) -> T:
    """Run ``send`` until it succeeds; retry rate-limit/transient errors, re-raise the others.

    Failures while the endpoint's breaker is open do not use up the budget: those calls wait
    for the endpoint rather than giving up on it."""
    retries = 0
    while True:
        try:
            return await send()
        except TransportError as err:
            if err.error_class in ("fatal", "unsupported"):
                raise
            counted = not err.breaker_open
            will_retry = retries < policy.max_retries or not counted
            wait = wait_for(err, retries, policy) if will_retry else 0.0
            scope = current_scope()
            scope.emit(
                RetryWarning(
                    sim_id=scope.sim_id,
                    purpose=purpose,
                    attempt=retries + 1,
                    max_attempts=policy.max_retries + 1,
                    error_class=err.error_class,
                    reason=err.reason[:300],
                    will_retry=will_retry,
                    wait_s=round(wait, 4),
                    status=err.status,
                )
            )
            log.info(
                "[%s] %s %s on %s (status %s), waiting %.2fs",
                scope.sim_id or "-",
                purpose,
                err.error_class,
                endpoint,
                err.status,
                wait,
            )
            if not will_retry:
                raise EndpointError(
                    f"{endpoint}: {purpose} failed after {retries + 1} tries "
                    f"({err.error_class}: {err.reason})"
                ) from None
            if counted:
                retries += 1
            if wait > 0:
                await asyncio.sleep(wait)
