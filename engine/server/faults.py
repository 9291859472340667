"""What ``relsim serve`` does wrong on purpose: fault rates, latency and a requests/min limit.

HTTP-level faults (429, 500, hang, reset) are drawn per HTTP request from one seeded generator,
so a retried request can succeed; content faults (malformed JSON, truncation) are the simulator's
own, keyed on the request like in-process. Every injected fault is counted in ``ServerStats`` so
tests can compare what the server did with what the client reported.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from engine.errors import ConfigError

LatencyDist = Literal["uniform", "exponential"]


@dataclass(frozen=True, slots=True)
class ServerFaults:
    """Rates are per HTTP request (0–1); ``hang_s`` bounds a hang so the server never leaks."""

    rate_limit: float = 0.0  # 429 with retry-after
    retry_after_s: float = 0.05
    server_error: float = 0.0  # 500
    hang: float = 0.0
    hang_s: float = 30.0
    reset: float = 0.0  # the connection is dropped mid-response
    malformed: float = 0.0
    truncated: float = 0.0
    latency_s: float = 0.0
    jitter_s: float = 0.0
    latency_dist: LatencyDist = "uniform"
    rpm: float | None = None  # server-side requests/min limit, with x-ratelimit-* headers
    ratelimit_headers: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        rates = ("rate_limit", "server_error", "hang", "reset", "malformed", "truncated")
        for name in rates:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"fault rate {name}={value} is outside 0..1")
        if self.rate_limit + self.server_error + self.hang + self.reset > 1.0:
            raise ConfigError("HTTP fault rates add up to more than 1")
        if min(self.latency_s, self.jitter_s, self.hang_s, self.retry_after_s) < 0:
            raise ConfigError("durations cannot be negative")
        if self.rpm is not None and self.rpm <= 0:
            raise ConfigError("rpm must be positive")


HttpFault = Literal["rate_limit", "server_error", "hang", "reset"]


@dataclass(slots=True)
class FaultPlan:
    """Draws faults and latency; ``stats`` counts requests and every fault injected."""

    faults: ServerFaults
    stats: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.faults.seed)

    def draw(self) -> HttpFault | None:
        f = self.faults
        u = self._rng.random()
        for name, rate in (
            ("rate_limit", f.rate_limit),
            ("server_error", f.server_error),
            ("hang", f.hang),
            ("reset", f.reset),
        ):
            if u < rate:
                return name  # type: ignore[return-value]
            u -= rate
        return None

    def latency(self) -> float:
        f = self.faults
        if not f.jitter_s:
            return f.latency_s
        if f.latency_dist == "exponential":
            return f.latency_s + self._rng.expovariate(1.0 / f.jitter_s)
        return f.latency_s + self._rng.random() * f.jitter_s


@dataclass(slots=True)
class RequestLimiter:
    """A server-side requests/min token bucket (one second of burst), OpenAI-style headers."""

    rpm: float
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = self.capacity
        self._stamp = time.monotonic()

    @property
    def capacity(self) -> float:
        return max(1.0, self.rpm / 60.0)

    def take(self) -> tuple[bool, float]:
        """(allowed, seconds until the next token)."""
        now = time.monotonic()
        rate = self.rpm / 60.0
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True, max(0.0, (1.0 - self._tokens) / rate)
        return False, (1.0 - self._tokens) / rate

    def headers(self, wait_s: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(int(self.rpm)),
            "x-ratelimit-remaining-requests": str(int(self._tokens)),
            "x-ratelimit-reset-requests": f"{wait_s:.3f}s",
        }
