"""Who is calling: the simulation's event sink, id and seed, carried in a context variable.

Agents and the Scene Master are built before the Simulation that runs them (the seed's API), so
the simulation publishes its sink and seed here for the duration of a run; tasks started inside
the run inherit them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from engine.eventbase import EventBase, EventSink


@dataclass(slots=True, frozen=True)
class CallScope:
    sink: EventSink | None = None
    sim_id: str = ""
    seed: int | None = None

    def emit(self, event: EventBase) -> None:
        if self.sink is not None:
            self.sink(event)


_NO_SCOPE = CallScope()
_scope: ContextVar[CallScope] = ContextVar("relsim_call_scope", default=_NO_SCOPE)


def current_scope() -> CallScope:
    return _scope.get()


@contextmanager
def call_scope(scope: CallScope) -> Iterator[CallScope]:
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


DEFAULT_OUTAGE_TIMEOUT_S = 300.0


def default_outage_timeout() -> float:
    """``RELSIM_OUTAGE_TIMEOUT`` seconds, else 300: how long a call waits on a down endpoint."""
    import os

    raw = os.environ.get("RELSIM_OUTAGE_TIMEOUT")
    try:
        return float(raw) if raw else DEFAULT_OUTAGE_TIMEOUT_S
    except ValueError:
        return DEFAULT_OUTAGE_TIMEOUT_S


# Per simulation (a batch key, ``outage_timeout``): a call whose endpoint has been down longer
# than this fails instead of waiting on, so a batch against a dead server ends. None: the default.
outage_timeout: ContextVar[float | None] = ContextVar("relsim_outage_timeout", default=None)


def current_outage_timeout() -> float:
    value = outage_timeout.get()
    return default_outage_timeout() if value is None else value
