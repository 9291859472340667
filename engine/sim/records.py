"""Plain records shared by the simulation, its events and its results."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from engine.compact import CompactModel

Role = Literal["A", "B"]


class AgentInfo(CompactModel):
    model_config = ConfigDict(frozen=True)

    name: str
    role: Role
    persona_id: str | None = None
    summary: str


class TurningPointRef(CompactModel):
    model_config = ConfigDict(frozen=True)

    id: str
    category: str
    title: str
    uncertainty: Literal["self", "partner", "relationship"]


class PartnerCommitment(CompactModel):
    """One partner's commitment after a scene (Rusbult's investment model, 0–10 each)."""

    model_config = ConfigDict(frozen=True)

    agent: str
    role: Role
    score: int = Field(ge=0, le=10)
    reasoning: str
    satisfaction: int = Field(ge=0, le=10)
    alternatives: int = Field(ge=0, le=10)
    investment: int = Field(ge=0, le=10)
    # With commitment_samples > 1: every sample's commitment and their standard deviation.
    samples: list[int] = Field(default_factory=list)
    spread: float = 0.0


class CommitmentEntry(CompactModel):
    """The commitment log's entry for one scene: both partners, named, never ambiguous."""

    model_config = ConfigDict(frozen=True)

    scene_index: int
    turning_point: TurningPointRef
    summary: str
    commitments: dict[str, PartnerCommitment]

    def score_of(self, agent_name: str) -> int:
        return self.commitments[agent_name].score
