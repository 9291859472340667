"""Every event, from every layer: the union a run log holds, and ``parse_event`` to read it.

Events are the only way state leaves a running simulation: the run log, the dashboard and the
CLI all read them. Each event class lives with the layer that emits it (``engine.llm.events``,
``engine.sim.events``, ``engine.batch.events``, on the root in ``engine.eventbase``); this module
re-exports them all, so ``from engine.events import X`` works for any of them. Only readers of
whole streams need it: a layer imports its own events from its own module.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from engine.batch.events import SimState, SimStateChanged
from engine.eventbase import EventBase, EventSink
from engine.llm.events import (
    CallCompleted,
    CallFailed,
    CallParked,
    EmbeddingsFallback,
    EndpointStatus,
    RetryWarning,
)
from engine.sim.events import (
    ActionTaken,
    AfterActionReported,
    AppraisalMade,
    CommitmentScored,
    MemoriesAppraised,
    Narration,
    OptionsFramed,
    PerspectiveFormed,
    ReflectionMade,
    SceneEnded,
    SceneSelected,
    SceneStarted,
    SceneSummarized,
    SceneTransition,
    SimulationCompleted,
    SimulationFailed,
    SimulationStarted,
    StateInferred,
)

__all__ = [
    "ActionTaken",
    "AfterActionReported",
    "AppraisalMade",
    "CallCompleted",
    "CallFailed",
    "CallParked",
    "CommitmentScored",
    "EmbeddingsFallback",
    "EndpointStatus",
    "EventBase",
    "EventSink",
    "MemoriesAppraised",
    "Narration",
    "OptionsFramed",
    "PerspectiveFormed",
    "ReflectionMade",
    "RetryWarning",
    "SceneEnded",
    "SceneSelected",
    "SceneStarted",
    "SceneSummarized",
    "SceneTransition",
    "SimEvent",
    "SimState",
    "SimStateChanged",
    "SimulationCompleted",
    "SimulationFailed",
    "SimulationStarted",
    "StateInferred",
    "parse_event",
    "sim_event_adapter",
]

SimEvent = Annotated[
    SimulationStarted
    | SceneStarted
    | PerspectiveFormed
    | Narration
    | AppraisalMade
    | ActionTaken
    | MemoriesAppraised
    | ReflectionMade
    | SceneSummarized
    | CommitmentScored
    | SceneEnded
    | SceneTransition
    | RetryWarning
    | CallFailed
    | CallCompleted
    | SimulationCompleted
    | SimulationFailed
    | StateInferred
    | SceneSelected
    | OptionsFramed
    | AfterActionReported
    | SimStateChanged
    | EndpointStatus
    | EmbeddingsFallback
    | CallParked,
    Field(discriminator="type"),
]

sim_event_adapter: TypeAdapter[Any] = TypeAdapter(SimEvent)


def parse_event(data: bytes | str | dict[str, Any]) -> EventBase:
    """Rebuild a typed event from its JSON form (bytes/str) or its dict form."""
    if isinstance(data, dict):
        return sim_event_adapter.validate_python(data)  # type: ignore[no-any-return]
    return sim_event_adapter.validate_json(data)  # type: ignore[no-any-return]
