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
