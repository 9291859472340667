"""Replicas of one model endpoint and the choice between them.

A model may be served by several base URLs (replicas of a vLLM or llama.cpp server). Each
replica has its own admission control (adaptive limit, rate buckets) and breaker; a call goes
to the least-loaded healthy replica and parks while none is available.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NoReturn

from engine.errors import EndpointDownError, EndpointFatalError
from engine.llm.admission import AdaptiveLimiter, BreakerState, CircuitBreaker, RateBucket
from engine.llm.events import CallParked, EndpointStatus
from engine.llm.http import open_http_client
from engine.llm.scope import current_outage_timeout, current_scope
from engine.llm.settings import EndpointSettings
from engine.llm.transport import (
    ErrorClass,
    HttpReply,
    TransportError,
    classify,
    error_message,
    retry_after_s,
)

# Pace slightly under a server's advertised requests/min so clock skew and jitter do not 429.
HEADER_RATE_MARGIN = 0.97
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$")


@dataclass(slots=True)
class EndpointUsage:
    """Accounting for one replica: every attempt counts, failed ones and re-asks included."""

    requests: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)


class Replica:
    def __init__(self, base_url: str, settings: EndpointSettings) -> None:
        self.base_url = base_url
        limits = settings.limits
        self.limiter = AdaptiveLimiter(
            limits.max_in_flight, limits.min, limits.max, on_change=self._limit_changed
        )
        self.breaker = CircuitBreaker(on_change=self._breaker_changed)
        self.unreachable = False
        self.models_checked = False
        self.rpm = RateBucket(limits.rpm) if limits.rpm else None
        self.rpm_configured = limits.rpm
        self.tpm = RateBucket(limits.tpm) if limits.tpm else None
        self.http = open_http_client(settings)
        self.usage = EndpointUsage()
        # OpenAI's own API says nothing about slots; every other server is asked once.
        self.probe_slots = settings.provider != "openai"
        self.slots: int | None = None

    @property
    def load(self) -> float:
        return self.limiter.in_flight / max(1, self.limiter.limit)

    def status(self, reason: str | None) -> EndpointStatus:
        return EndpointStatus(
            endpoint=self.base_url,
            limit=self.limiter.limit,
            in_flight=self.limiter.in_flight,
            breaker=self.breaker.state,
            reason=reason,
            limit_reason=self.limiter.reason,
        )

    def _limit_changed(self, limit: int, reason: str) -> None:
        current_scope().emit(self.status(f"limit {limit}: {reason}"))

    def _breaker_changed(self, state: BreakerState, reason: str) -> None:
        current_scope().emit(self.status(f"breaker {state}: {reason}"))

    def learn_limits(self, headers: Any) -> None:
        """Adopt a server's advertised requests/min (x-ratelimit-limit-requests) as our pace."""
        raw = headers.get("x-ratelimit-limit-requests")
        if not raw:
            return
        try:
            advertised = float(raw) * HEADER_RATE_MARGIN
        except ValueError:
            return
        if self.rpm_configured is not None and self.rpm_configured <= advertised:
            return
        if self.rpm is None:
            self.rpm = RateBucket(advertised)
        elif abs(self.rpm.per_minute - advertised) > 1e-6:
            self.rpm.set_rate(advertised)
        else:
            return
        current_scope().emit(self.status(f"pacing at {advertised:.0f} requests/min"))

    async def _check_models(self, headers: dict[str, str]) -> HttpReply | None:
        """The first probe of a new replica is a ``GET /models``: it answers in milliseconds
        where a completion may take seconds, and every other call waits for the probe. A 200
        verifies the endpoint (and teaches its advertised rate); a 401/403 is returned as the
        verdict on the key; anything else (a server without the route) leaves the verdict to
        the real call."""
        self.models_checked = True
        self.usage.requests += 1
        reply = await self.http.get(self.base_url + "/models", headers)
        if reply.status == 200:
            if self.probe_slots:
                await self.learn_slots(headers)
            self.breaker.record_success()
            self.learn_limits(reply.headers)  # pace the calls it was holding back
            return None
        return reply if reply.status in (401, 403) else None

    async def learn_slots(self, headers: dict[str, str]) -> int | None:
        """Start the in-flight limit at the number of requests the server runs at once, where
        it says so (llama.cpp ``GET /props`` ``total_slots``): more would only wait in its queue
        and time out there. Asked once; a server without the route leaves the limit adaptive."""
        self.probe_slots = False
        root = self.base_url.removesuffix("/v1")
        try:
            reply = await self.http.get(root + "/props", headers)
            slots = int(reply.json().get("total_slots")) if reply.status == 200 else None
        except Exception:  # no such route, not JSON, no field: the server does not say
            slots = None
        if slots is not None and slots > 0:
            self.slots = slots
            self.limiter.pin(slots, f"server has {slots} slot{'s' if slots != 1 else ''}")
        return self.slots

    async def send(self, path: str, body: bytes, headers: dict[str, str], tokens: int) -> HttpReply:
        """One admitted HTTP exchange on this replica; raises TransportError on failure."""
        limiter = self.limiter
        await limiter.acquire()
        reserved = 0
        try:
            reply = None
            # Unverified, the breaker admits one call at a time: this one is its probe. A 401/403
            # from /models is the verdict on the key, and no POST follows.
            if not self.breaker.verified and not self.models_checked:
                reply = await self._check_models(headers)
            if reply is None:
                reply = await self._post(path, body, headers, tokens)
                reserved = tokens if self.tpm is not None else 0
        except TransportError as err:
            self.usage.errors[err.error_class] += 1
            # Never answered since we started: a wrong URL or a server that is not running.
            self.unreachable = err.unreachable and not self.breaker.verified
            err.breaker_open = self.breaker.record_failure()
            raise
        except BaseException:
            self.breaker.leave()
            raise
        finally:
            limiter.release()
        error_class = classify(reply.status, reply.body)
        if error_class is None:
            self.breaker.record_success()
            limiter.on_success()
            if self.tpm is not None:
                self.tpm.reconcile(reserved, _total_tokens(reply))
            if self.rpm is not None or self.rpm_configured is None:
                self.learn_limits(reply.headers)
            return reply
        self._failed(reply, error_class)

    async def _post(
        self, path: str, body: bytes, headers: dict[str, str], tokens: int
    ) -> HttpReply:
        if self.rpm is not None:
            delay = self.rpm.reserve(1)
            if delay > 0:
                await asyncio.sleep(delay)
        if self.tpm is not None:
            delay = self.tpm.reserve(tokens)
            if delay > 0:
                await asyncio.sleep(delay)
        self.usage.requests += 1
        started = time.monotonic()
        reply = await self.http.post_json(self.base_url + path, body, headers)
        reply.elapsed_s = time.monotonic() - started
        return reply

    def _failed(self, reply: HttpReply, error_class: ErrorClass) -> NoReturn:
        """Account for an error reply and raise it as a TransportError of its class."""
        limiter = self.limiter
        self.usage.errors[error_class] += 1
        hint = retry_after_s(reply.headers)
        reason = f"HTTP {reply.status}: {error_message(reply.body)}"
        if error_class == "rate_limit":
            self.breaker.leave()
            limiter.on_rate_limit()
            self.learn_limits(reply.headers)
            wait = hint if hint is not None else _reset_hint(reply.headers)
            if wait and self.rpm is not None:
                self.rpm.drain_for(wait)  # everyone on this replica waits, not just this call
            raise TransportError("rate_limit", reason, status=reply.status, retry_after=hint)
        if error_class == "transient":
            open_now = self.breaker.record_failure()
            raise TransportError(
                "transient", reason, status=reply.status, retry_after=hint, breaker_open=open_now
            )
        self.breaker.leave()
        raise TransportError(error_class, reason, status=reply.status)


def _total_tokens(reply: HttpReply) -> int:
    try:
        usage = reply.json().get("usage") or {}
        return int(usage.get("total_tokens") or 0)
    except Exception:
        return 0


def _reset_hint(headers: Any) -> float | None:
    raw = headers.get("x-ratelimit-reset-requests")
    if not raw:
        return None
    match = _DURATION.match(raw.strip())
    if not match or not any(match.groups()):
        return None
    minutes, seconds, millis = (float(g) if g else 0.0 for g in match.groups())
    return minutes * 60 + seconds + millis / 1000


class EndpointPool:
    """All replicas of one endpoint. ``fatal`` latches the first configuration error."""

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        self.replicas = [Replica(url, settings) for url in settings.base_urls]
        self.fatal: EndpointFatalError | None = None

    def _pick(self) -> Replica | None:
        best: Replica | None = None
        for replica in sorted(self.replicas, key=lambda r: r.load):
            if replica.breaker.try_enter():
                best = replica
                break
        return best

    def down_since(self) -> float | None:
        """When the endpoint went down: every replica's breaker is open or probing after
        failures, since the latest of their first failures. None while any replica is up."""
        times = []
        for r in self.replicas:
            if r.breaker.state == "closed" or r.breaker.failing_since is None:
                return None
            times.append(r.breaker.failing_since)
        return max(times) if times else None

    def check_outage(self) -> None:
        """Raise EndpointDownError once the endpoint has been down past the caller's deadline
        (``engine.llm.scope.current_outage_timeout``)."""
        since = self.down_since()
        if since is not None and time.time() - since > current_outage_timeout():
            clock = time.strftime("%H:%M:%S", time.localtime(since))
            raise EndpointDownError(f"endpoint down since {clock} ({self.settings.endpoint})")

    async def choose(self) -> Replica:
        """The least-loaded replica whose breaker admits a call; parks while there is none,
        until the outage deadline."""
        if self.fatal is not None:
            raise self.fatal
        self.check_outage()
        replica = self._pick()
        if replica is not None:
            return replica
        # Held back while a breaker is open: say so (the caller's runner decides what that means
        # for a simulation's state). Waiting for a probe slot alone is routine and not reported.
        scope = current_scope()
        parked = False
        try:
            while True:
                if not parked and any(r.breaker.state == "open" for r in self.replicas):
                    parked = True
                    scope.emit(
                        CallParked(
                            sim_id=scope.sim_id,
                            endpoint=self.settings.endpoint,
                            parked=True,
                            reason=f"endpoint {self.settings.endpoint} is down",
                        )
                    )
                waits = [r.breaker.changed() for r in self.replicas]
                timeouts = [
                    t for r in self.replicas if (t := r.breaker.seconds_until_probe()) is not None
                ]
                timeout = min(timeouts) + 0.001 if timeouts else None
                since = self.down_since()
                if since is not None:
                    left = max(0.0, since + current_outage_timeout() - time.time()) + 0.001
                    timeout = left if timeout is None else min(timeout, left)
                try:
                    await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for fut in waits:
                        fut.cancel()
                if self.fatal is not None:
                    raise self.fatal
                self.check_outage()
                replica = self._pick()
                if replica is not None:
                    return replica
        finally:
            if parked:
                scope.emit(
                    CallParked(
                        sim_id=scope.sim_id,
                        endpoint=self.settings.endpoint,
                        parked=False,
                        reason="endpoint is back",
                    )
                )

    async def send(
        self, path: str, body: bytes, headers: dict[str, str], tokens: int
    ) -> tuple[Replica, HttpReply]:
        replica = await self.choose()
        started = time.monotonic()
        try:
            return replica, await replica.send(path, body, headers, tokens)
        except TransportError as err:
            # A model that cannot embed says nothing about chat: only chat errors stop the pool.
            if err.error_class == "fatal" and path != "/embeddings":
                self._latch(err, replica, time.monotonic() - started)
            elif all(r.unreachable for r in self.replicas):
                self._latch_unreachable(err)
            raise

    def _latch(self, err: TransportError, replica: Replica, _elapsed: float) -> None:
        if self.fatal is None and err.status in (401, 403, 404):
            self.fatal = fatal_error(err, self.settings, replica.base_url)
            for r in self.replicas:
                r.breaker._notify()  # wake parked calls so they fail now, not later

    def _latch_unreachable(self, err: TransportError) -> None:
        """Parking would wait forever for a server that was never there: stop instead."""
        if self.fatal is None:
            urls = ", ".join(r.base_url for r in self.replicas)
            self.fatal = EndpointFatalError(
                f"cannot reach {urls}: {err.reason}; is the server running at that address?",
                endpoint=urls,
            )
            for r in self.replicas:
                r.breaker._notify()

    def usage(self) -> dict[str, EndpointUsage]:
        return {r.base_url: r.usage for r in self.replicas}


def fatal_error(err: TransportError, settings: EndpointSettings, url: str) -> EndpointFatalError:
    """One clear sentence for a configuration error (the key is never part of it)."""
    model = settings.model_string
    status = err.status
    if status == 401:
        message = (
            f"{url} rejected the API key for {model} (HTTP 401); "
            "check OPENAI_API_KEY or RELSIM_API_KEY"
        )
    elif status == 403:
        message = f"{url} refused access to {model} (HTTP 403): {err.reason}"
    elif status == 404:
        message = f"{url} does not serve model '{settings.model}' (HTTP 404): {err.reason}"
    elif status == 429:
        message = f"{url} reports the quota for {model} is exhausted: {err.reason}"
    else:
        message = f"{url} rejected the request for {model} ({err.reason})"
    return EndpointFatalError(message, status=status, endpoint=url)
