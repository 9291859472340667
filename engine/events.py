"""Typed events a simulation reports as it runs.

Events are the only way state leaves a running simulation: the run log, the dashboard and the
CLI all read them. Every field a transcript or a panel needs is carried here, so a transcript can
be rebuilt from the event stream alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from engine.sim.records import AgentInfo, CommitmentEntry, PartnerCommitment, TurningPointRef


class EventBase(BaseModel):
    model_config = ConfigDict(frozen=True)

    sim_id: str = ""
    t: float = Field(default_factory=time.time)


class SimulationStarted(EventBase):
    type: Literal["simulation_started"] = "simulation_started"
    agents: list[AgentInfo]
    model: str
    model_label: str
    seed: int
    num_scenes: int
    beats_per_scene: int
    plan: list[TurningPointRef]
    start_scene: int = 0


class SceneStarted(EventBase):
    type: Literal["scene_started"] = "scene_started"
    scene_index: int
    turning_point: TurningPointRef
    scenario: str
    setting: str
    conflict: str
    goals: dict[str, str]
    opening: str


class PerspectiveFormed(EventBase):
    """The Scene Master's private framing of the scene for one partner."""

    type: Literal["perspective"] = "perspective"
    scene_index: int
    agent: str
    text: str


class Narration(EventBase):
    type: Literal["narration"] = "narration"
    scene_index: int
    beat: int
    text: str
    next_actor: str


class AppraisalMade(EventBase):
    type: Literal["appraisal"] = "appraisal"
    scene_index: int
    beat: int
    agent: str
    emotions: dict[str, float]
    inner_thoughts: str
    fallback: bool = False


class ActionTaken(EventBase):
    type: Literal["action"] = "action"
    scene_index: int
    beat: int
    agent: str
    options: list[str]
    chosen: int
    inner_thoughts: str
    line: str
    behaviour: str


class MemoriesAppraised(EventBase):
    type: Literal["memories_appraised"] = "memories_appraised"
    agent: str
    count: int
    fallback_count: int
    emotions: list[list[float]] = Field(default_factory=list)


class ReflectionMade(EventBase):
    type: Literal["reflection"] = "reflection"
    scene_index: int
    agent: str
    text: str
    feeling: str


class SceneSummarized(EventBase):
    type: Literal["scene_summary"] = "scene_summary"
    scene_index: int
    summary: str
    key_moments: list[str]


class CommitmentScored(EventBase):
    type: Literal["commitment"] = "commitment"
    scene_index: int
    commitment: PartnerCommitment


class SceneEnded(EventBase):
    """A scene is complete: everything needed to resume after it is in the log."""

    type: Literal["scene_ended"] = "scene_ended"
    scene_index: int
    entry: CommitmentEntry


class SceneTransition(EventBase):
    type: Literal["transition"] = "transition"
    scene_index: int
    bridge: str
    time_passed: str


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
    cached: bool = False
    fallback: bool = False


class SimulationCompleted(EventBase):
    type: Literal["simulation_completed"] = "simulation_completed"
    commitment_log: list[CommitmentEntry]


class SimulationFailed(EventBase):
    type: Literal["simulation_failed"] = "simulation_failed"
    reason: str
    error_type: str
    scene_index: int | None = None


SimState = Literal["pending", "running", "waiting", "completed", "failed", "cancelled"]


class SimStateChanged(EventBase):
    """The batch runner moved a simulation to a new state (``attempt`` counts reruns)."""

    type: Literal["sim_state"] = "sim_state"
    state: SimState
    attempt: int = 1
    reason: str | None = None


class EndpointStatus(EventBase):
    """An endpoint's admission state changed: its concurrency limit, load or breaker."""

    type: Literal["endpoint_status"] = "endpoint_status"
    endpoint: str
    limit: int
    in_flight: int
    breaker: Literal["closed", "open", "half_open"] = "closed"
    reason: str | None = None


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
    | SimStateChanged
    | EndpointStatus,
    Field(discriminator="type"),
]

EventSink = Callable[[EventBase], None]

sim_event_adapter: TypeAdapter[Any] = TypeAdapter(SimEvent)


def parse_event(data: bytes | str | dict[str, Any]) -> EventBase:
    """Rebuild a typed event from its JSON form (bytes/str) or its dict form."""
    if isinstance(data, dict):
        return sim_event_adapter.validate_python(data)  # type: ignore[no-any-return]
    return sim_event_adapter.validate_json(data)  # type: ignore[no-any-return]
