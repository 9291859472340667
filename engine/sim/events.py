"""Events a simulation emits as it plays: scenes, beats, appraisals, actions, commitment.

Every field a transcript or a panel needs is carried here, so a transcript can be rebuilt from
the event stream alone.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from engine.eventbase import EventBase
from engine.sim.records import AgentInfo, CommitmentEntry, PartnerCommitment, TurningPointRef


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
    # Set when this is the spoken-to partner appraising what the actor just did.
    responding_to: str | None = None


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
    approach: str | None = None  # the chosen option's approach tag (Scene-Master options)


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


class SimulationCompleted(EventBase):
    type: Literal["simulation_completed"] = "simulation_completed"
    commitment_log: list[CommitmentEntry]
    # None only in runs made before relationship outcomes existed.
    outcome: Literal["together", "separated"] | None = None
    ended_early: bool = False


class StateInferred(EventBase):
    """The relationship's eight state variables after a scene, each with evidence."""

    type: Literal["state_inferred"] = "state_inferred"
    scene_index: int
    state: dict[str, dict[str, str]]
    fallback: bool = False


class SceneSelected(EventBase):
    type: Literal["scene_selected"] = "scene_selected"
    scene_index: int
    turning_point: TurningPointRef
    policy: Literal["state", "scene_master", "fixed"]
    reason: str
    candidates: list[str] = Field(default_factory=list)


class OptionsFramed(EventBase):
    type: Literal["options_framed"] = "options_framed"
    scene_index: int
    beat: int
    agent: str
    options: list[dict[str, str]]


class KeySceneRecord(BaseModel):
    scene_index: int
    change: float
    why: str


class AfterActionReported(EventBase):
    type: Literal["after_action_report"] = "after_action_report"
    trajectory: str
    key_scenes: list[KeySceneRecord] = Field(default_factory=list)
    risk_markers: list[str] = Field(default_factory=list)
    strength_markers: list[str] = Field(default_factory=list)
    predicted_outcome: Literal["together", "separated"]
    probability: float
    fallback: bool = False


class SimulationFailed(EventBase):
    type: Literal["simulation_failed"] = "simulation_failed"
    reason: str
    error_type: str
    scene_index: int | None = None
