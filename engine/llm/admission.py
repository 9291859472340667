"""Admission control for one endpoint replica: adaptive in-flight limit, rate buckets, breaker.

Nothing here holds an asyncio primitive bound to a loop: waiters are futures made on the running
loop when needed, because the sync wrappers run a fresh loop per call and providers are shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


def _wake(fut: asyncio.Future[None]) -> bool:
    """Resolve a waiter; False if it is gone (cancelled, or its loop has closed)."""
    if fut.done():
        return False
    try:
        fut.set_result(None)
    except RuntimeError:  # the waiter's event loop is closed
        return False
    return True


# Queueing detection: the limit shrinks when the recent latency per generated token climbs
# this far above the best seen (the server is queueing calls, not running them), after enough
# samples to trust the comparison.
QUEUE_RATIO = 2.5
QUEUE_MIN_SAMPLES = 8
_FAST_EWMA = 0.3
# The baseline forgets slowly, so one lucky fast reply does not hold the limit down forever.
_BASELINE_DRIFT = 1.01


class AdaptiveLimiter:
    """AIMD limit on requests in flight: +1 per ``limit`` successes while the limit is the
    bottleneck, ×``cut`` on a rate-limit signal or on queueing (latency climbing with the
    in-flight count; at most once per ``debounce_s``). ``pin(n, why)`` fixes the limit at what
    the server says it serves at once (its slots): then neither growth nor latency moves it.
    ``on_change(limit, why)`` is called whenever the integer limit changes."""

    def __init__(
        self,
        start: int,
        minimum: int,
        maximum: int,
        *,
        cut: float = 0.8,
        debounce_s: float = 1.0,
        on_change: Callable[[int, str], None] | None = None,
    ) -> None:
        self._limit = float(start)
        self.minimum = minimum
        self.maximum = maximum
        self.cut_factor = cut
        self.debounce_s = debounce_s
        self.on_change = on_change
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._last_cut = -1e9
        self.pinned = False
        # Why the limit is what it is, for the dashboard's endpoint line.
        self.reason = "configured"
        self._samples = 0
        self._fast = 0.0
        self._baseline = 0.0

    @property
    def limit(self) -> int:
        return int(self._limit)

    async def acquire(self) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self.in_flight += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # the slot was granted just before the cancel: hand it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
            raise

    def release(self) -> None:
        self.in_flight -= 1
        self._grant()

    def _grant(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            if _wake(self._waiters.popleft()):
                self.in_flight += 1

    def on_success(self) -> None:
        # Grow only when the limit is what holds calls back, else it would drift to max.
        if (
            self.pinned
            or self._limit >= self.maximum
            or self.in_flight + len(self._waiters) < self.limit
        ):
            return
        before = self.limit
        self._limit = min(float(self.maximum), self._limit + 1.0 / self._limit)
        if self.limit != before:
            self._changed("growing")
            self._grant()

    def pin(self, limit: int, reason: str) -> None:
        """Hold the limit at ``limit`` (the server's own count of parallel slots)."""
        self.pinned = True
        self.minimum = self.maximum = max(1, limit)
        self._limit = float(self.maximum)
        self._changed(reason)
        self._grant()

    def on_latency(self, seconds_per_token: float) -> None:
        """One reply's latency per generated token. Where the server says nothing about its
        capacity, calls beyond it wait in its queue and their latency climbs with the in-flight
        count: shrink the limit then, as on a rate limit."""
        if self.pinned or seconds_per_token <= 0:
            return
        self._samples += 1
        if self._samples == 1:
            self._fast = self._baseline = seconds_per_token
            return
        self._fast += _FAST_EWMA * (seconds_per_token - self._fast)
        self._baseline = min(self._baseline * _BASELINE_DRIFT, self._fast)
        if self._samples < QUEUE_MIN_SAMPLES or self.in_flight < 2:
            return
        ratio = self._fast / self._baseline
        if ratio >= QUEUE_RATIO:
            self._cut(f"queueing: latency ×{ratio:.1f}")

    def on_rate_limit(self) -> None:
        self._cut("rate limited")

    def _cut(self, reason: str) -> None:
        now = time.monotonic()
        if self.pinned or now - self._last_cut < self.debounce_s:
            return
        self._last_cut = now
        before = self.limit
        self._limit = max(float(self.minimum), self._limit * self.cut_factor)
        if self.limit != before:
            self._changed(reason)

    def _changed(self, reason: str) -> None:
        self.reason = reason
        if self.on_change is not None:
            self.on_change(self.limit, reason)


class RateBucket:
    """A token bucket that lends: a reservation may drive the balance negative and the caller
    waits off its own debt. Concurrent callers are thereby paced evenly, in order, without a
    lock. Used for requests/min (1 per call) and tokens/min (estimate, then reconcile)."""

    def __init__(self, per_minute: float, burst_s: float = 1.0) -> None:
        self.per_minute = per_minute
        self.burst_s = burst_s
        self._tokens = self.capacity
        self._stamp = time.monotonic()

    @property
    def rate(self) -> float:
        return self.per_minute / 60.0

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate * self.burst_s)

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self, amount: float) -> float:
        """Take ``amount`` now; returns how long the caller must wait before sending."""
        self._refill()
        # A single request larger than the bucket may still go once the bucket is full.
        self._tokens -= min(amount, self.capacity)
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def reconcile(self, reserved: float, actual: float) -> None:
        """Correct a reservation with the usage the server reported."""
        self._refill()
        self._tokens = min(self.capacity, self._tokens + reserved - actual)

    def set_rate(self, per_minute: float) -> None:
        self._refill()
        self.per_minute = per_minute
        self._tokens = min(self._tokens, self.capacity)

    def drain_for(self, seconds: float) -> None:
        """The server said wait: nobody sends for ``seconds`` (a shared cool-down)."""
        self._refill()
        self._tokens = min(self._tokens, -seconds * self.rate)


class CircuitBreaker:
    """closed → open after ``threshold`` consecutive transient failures; after a cool-down one
    probe is let through (half_open): success closes it, failure re-opens it for longer.

    A new breaker starts unverified in half_open: the first call probes the endpoint alone, so a
    bad key or unknown model costs one request, not one per simulation."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        cooldown_s: float = 0.5,
        max_cooldown_s: float = 30.0,
        on_change: Callable[[BreakerState, str], None] | None = None,
    ) -> None:
        self.threshold = threshold
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self.on_change = on_change
        self.state: BreakerState = "half_open"
        self.verified = False
        self.failures = 0
        self.cooldown_s = cooldown_s
        self.open_until = 0.0
        self.probing = False
        # Wall-clock time of the first failure of the current run of failures (None: healthy):
        # how long the endpoint has been down, for the outage deadline.
        self.failing_since: float | None = None
        self._waiters: list[asyncio.Future[None]] = []

    def try_enter(self) -> bool:
        """May a call go now? In half_open, only one (the probe) at a time."""
        if self.state == "closed":
            return True
        if self.state == "open":
            if time.monotonic() < self.open_until:
                return False
            self._set("half_open", "probing")
        if self.probing:
            return False
        self.probing = True
        return True

    def seconds_until_probe(self) -> float | None:
        if self.state == "open":
            return max(0.0, self.open_until - time.monotonic())
        return None

    def leave(self) -> None:
        """A call admitted by try_enter ended without a verdict (e.g. cancelled)."""
        if self.probing:
            self.probing = False
            self._notify()

    def record_success(self) -> None:
        self.failures = 0
        self.failing_since = None
        self.verified = True
        self.probing = False
        if self.state != "closed":
            self.cooldown_s = self.base_cooldown_s
            self._set("closed", "endpoint answered")

    def record_failure(self) -> bool:
        """A transient failure; True if the breaker is (now) open."""
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = time.time()
        was_probe = self.probing
        self.probing = False
        if self.state == "half_open" and was_probe and self.verified:
            self.cooldown_s = min(self.max_cooldown_s, self.cooldown_s * 2)
            self._open("probe failed")
        elif self.failures >= self.threshold:
            self._open(f"{self.failures} failures in a row")
        else:
            self._notify()  # an unverified probe failed: let the next caller probe
        return self.state == "open"

    def _open(self, reason: str) -> None:
        self.open_until = time.monotonic() + self.cooldown_s
        self._set("open", reason)

    def _set(self, state: BreakerState, reason: str) -> None:
        self.state = state
        if self.on_change is not None:
            self.on_change(state, reason)
        self._notify()

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            _wake(fut)

    def changed(self) -> asyncio.Future[None]:
        """A future resolved at the next state change (or probe slot freed)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        return fut
