"""Events the model layer emits: one per failed attempt, per finished call, per endpoint change.

They reach the calling simulation through its call scope (``engine.llm.scope``); the model
layer knows nothing about simulations or batches beyond the ``sim_id`` the scope carries.
"""

from __future__ import annotations

from typing import Literal

from engine.eventbase import EventBase


class RetryWarning(EventBase):
    """One failed attempt of a model call; ``will_retry`` is False on the last one."""

    type: Literal["retry_warning"] = "retry_warning"
    purpose: str
    agent: str | None = None
    attempt: int
    max_attempts: int
    error_class: str
    reason: str
    will_retry: bool
    wait_s: float | None = None
    status: int | None = None


class CallFailed(EventBase):
    """A call gave up. ``fallback`` says a declared fallback value was used instead of raising."""

    type: Literal["call_failed"] = "call_failed"
    purpose: str
    agent: str | None = None
    attempts: int
    error: str
    raw_response: str
    fallback: bool


class CallCompleted(EventBase):
    """Accounting for one logical call, summed over all of its attempts."""

    type: Literal["call_completed"] = "call_completed"
    purpose: str
    agent: str | None = None
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float = 0.0
    latency_s: float
    # Of prompt_tokens, those the server took from its prefix cache (where it reports them).
    cached_prompt_tokens: int = 0
    cached: bool = False
    fallback: bool = False
    # Benign repairs the accepted reply needed (fences, prose, trailing commas…): see parsing.
    repairs: int = 0


class EndpointStatus(EventBase):
    """An endpoint's admission state changed: its in-flight limit, load or breaker."""

    type: Literal["endpoint_status"] = "endpoint_status"
    endpoint: str
    limit: int
    in_flight: int
    breaker: Literal["closed", "open", "half_open"] = "closed"
    reason: str | None = None
    # Why the in-flight limit is what it is: "configured", "server has 4 slots", "queueing: …".
    limit_reason: str | None = None


class CallParked(EventBase):
    """A call is held back because its endpoint is down (``parked``), or has been let go.

    A fact about the call, not a simulation state: whoever runs the simulation decides what it
    means for it (the batch runner shows the simulation as "waiting")."""

    type: Literal["call_parked"] = "call_parked"
    endpoint: str
    parked: bool
    reason: str | None = None


class EmbeddingsFallback(EventBase):
    """The endpoint cannot embed (no embeddings route, or not with this model): relsim uses its
    built-in hashing embedder for the rest of the run. Emitted once per endpoint, never per call."""

    type: Literal["embeddings_fallback"] = "embeddings_fallback"
    endpoint: str
    model: str
    reason: str

    @property
    def note(self) -> str:
        """The one line screens show for it."""
        return f"embeddings: local — the endpoint has none ({self.model} at {self.endpoint})"
