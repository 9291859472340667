"""One pydantic schema per structured call purpose. Ranges are enforced, not suggested."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from engine.compact import CompactModel

EMOTIONS = ("joy", "acceptance", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Score = Annotated[int, Field(ge=0, le=10)]
# Text fields are bounded for what each holds, and the bounds travel in the JSON schema: a server
# that decodes with the schema's grammar (llama.cpp, vLLM) must close the string there, so a
# small model that falls into a loop ends a field instead of running to its token budget.
# Each call's budget (engine/llm/budgets.py) covers its schema's longest valid reply.
Sentence = Annotated[str, Field(min_length=1, max_length=300)]
Text = Annotated[str, Field(min_length=1, max_length=800)]
LongText = Annotated[str, Field(min_length=1, max_length=1200)]


class _Strict(CompactModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Emotions(_Strict):
    """Plutchik's eight basic emotions, each 0–1."""

    joy: Unit
    acceptance: Unit
    fear: Unit
    surprise: Unit
    sadness: Unit
    disgust: Unit
    anger: Unit
    anticipation: Unit

    @classmethod
    @cache
    def neutral(cls) -> Emotions:
        """All zero. One shared instance (frozen): it is every agent's mood at first."""
        return cls(**dict.fromkeys(EMOTIONS, 0.0))

    def vector(self) -> tuple[float, ...]:
        return tuple(getattr(self, e) for e in EMOTIONS)


class SceneSetup(_Strict):
    setting: Sentence
    conflict: Text
    goal_a: Sentence
    goal_b: Sentence
    opening: Text


class Perspective(_Strict):
    """The Scene Master's private briefing of one partner as a scene opens."""

    briefing: Text


class Beat(_Strict):
    narration: Text
    # The schema's enum lets a grammar-decoding server force "A" or "B"; a model answering
    # freely may give the partner's name, which validates too.
    next_actor: str = Field(description="'A' or 'B': who acts next",
                            json_schema_extra={"enum": ["A", "B"]})

    @field_validator("next_actor")
    @classmethod
    def _known_actor(cls, value: str, info: ValidationInfo) -> str:
        """Normalise to 'A'/'B' (a name, full or first, with stray punctuation, counts); anything
        else (a raw id, a third name) is rejected."""
        actors: dict[str, str] = (info.context or {}).get("actors", {"a": "A", "b": "B"})
        key = value.strip().strip(".,;:!\"'").strip().lower()
        role = actors.get(key)
        if role is None:  # a first name, if it names exactly one partner
            roles = {r for name, r in actors.items() if name.split(" ")[0] == key}
            role = roles.pop() if len(roles) == 1 else None
        if role is None:
            raise ValueError(f"next_actor must be one of {sorted(set(actors))}")
        return role


APPROACHES = ("repair", "assert", "withdraw", "escalate", "deflect", "affirm")
Approach = Literal["repair", "assert", "withdraw", "escalate", "deflect", "affirm"]


class Option(_Strict):
    label: Annotated[str, Field(min_length=1, max_length=200)]
    description: Sentence
    # Set when the Scene Master framed the option (frame_options); None for self-written ones.
    approach: Approach | None = None


class FramedOption(_Strict):
    text: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="one observable thing the partner could say or do"
    )
    approach: Approach


class FramedOptions(_Strict):
    """The Scene Master's 3–4 mutually exclusive options for the acting partner."""

    options: Annotated[list[FramedOption], Field(min_length=3, max_length=4)]

    @model_validator(mode="after")
    def _spread(self) -> FramedOptions:
        # Mutually exclusive and spread across approaches: no two share an approach or a text.
        approaches = [o.approach for o in self.options]
        if len(set(approaches)) != len(approaches):
            raise ValueError("each option needs a different approach")
        texts = [o.text.strip().lower() for o in self.options]
        if len(set(texts)) != len(texts):
            raise ValueError("options must be distinct")
        return self

    def as_options(self) -> list[Option]:
        return [Option(label=o.text, description=o.text, approach=o.approach) for o in self.options]

    @classmethod
    def generic(cls) -> FramedOptions:
        """Plain options, one per approach: the fallback when a model cannot frame distinct ones
        (a small model repeats one approach however often it is asked)."""
        return cls(options=[
            FramedOption(text="Reach out and try to make things right", approach="repair"),
            FramedOption(text="Say plainly what you want", approach="assert"),
            FramedOption(text="Step back and say little", approach="withdraw"),
            FramedOption(text="Change the subject", approach="deflect"),
        ])


class Choices(_Strict):
    options: Annotated[list[Option], Field(min_length=3, max_length=4)]


class Action(_Strict):
    # Bounded in the schema too: a grammar-decoding server then cannot answer 0.
    choice: int = Field(ge=1, le=4, description="1-based number of the chosen option")
    inner_thoughts: Sentence
    line: Sentence = Field(description="what the character says aloud")
    behaviour: Sentence = Field(description="what the character does, briefly")

    @field_validator("choice")
    @classmethod
    def _offered(cls, value: int, info: ValidationInfo) -> int:
        count = (info.context or {}).get("option_count", 4)
        if not 1 <= value <= count:
            raise ValueError(f"choice must be between 1 and {count}")
        return value


class Appraisal(_Strict):
    emotions: Emotions
    inner_thoughts: Sentence

    @classmethod
    @cache
    def neutral(cls) -> Appraisal:
        """The declared fallback. One shared instance (frozen, like everything in it): every
        appraisal in flight holds it."""
        return cls(emotions=Emotions.neutral(), inner_thoughts="(no appraisal: neutral fallback)")


class MemoryAppraisal(_Strict):
    index: int
    emotions: Emotions


class MemoryAppraisals(_Strict):
    appraisals: list[MemoryAppraisal]

    @model_validator(mode="after")
    def _covers_batch(self, info: ValidationInfo) -> MemoryAppraisals:
        count = (info.context or {}).get("memory_count")
        if count is not None and sorted(a.index for a in self.appraisals) != list(range(count)):
            raise ValueError(f"give exactly one appraisal per memory, indices 0..{count - 1}")
        return self


class Reflection(_Strict):
    reflection: Text
    feeling_towards_partner: Annotated[str, Field(min_length=1, max_length=200)]


class SceneSummary(_Strict):
    summary: Text
    key_moments: Annotated[list[Sentence], Field(min_length=1, max_length=6)]


class CommitmentScore(_Strict):
    """Rusbult's investment model: satisfaction, alternatives, investment → commitment.
    Reasoning comes first so a model thinks before it commits to numbers."""

    reasoning: Text
    satisfaction: Score
    quality_of_alternatives: Score
    investment: Score
    commitment: Score


class Transition(_Strict):
    bridge: Text
    time_passed: Annotated[str, Field(min_length=1, max_length=80)]


# -- relationship state (RELATE-Sim's eight variables) ---------------------------------------------

STATE_VALUES: dict[str, tuple[str, ...]] = {
    "conflict": ("none", "brewing", "active", "unresolved", "repaired", "unknown"),
    "repair_outcome": ("none", "attempted", "successful", "failed", "unknown"),
    "clarity": ("unclear", "tacit", "explicit", "unknown"),
    "constraints": ("none", "emerging", "accrued", "unknown"),
    "alternatives": ("quiet", "salient", "hot", "unknown"),
    "transition": ("none", "upcoming", "underway", "unknown"),
    "network": ("supportive", "neutral", "opposed", "mixed", "unknown"),
    "breakup_marker": ("none", "soft", "hard", "unknown"),
}
STATE_VARIABLES = tuple(STATE_VALUES)
Evidence = Annotated[str, Field(min_length=1, max_length=250)]


class ConflictState(_Strict):
    value: Literal["none", "brewing", "active", "unresolved", "repaired", "unknown"]
    evidence: Evidence


class RepairState(_Strict):
    value: Literal["none", "attempted", "successful", "failed", "unknown"]
    evidence: Evidence


class ClarityState(_Strict):
    value: Literal["unclear", "tacit", "explicit", "unknown"]
    evidence: Evidence


class ConstraintsState(_Strict):
    value: Literal["none", "emerging", "accrued", "unknown"]
    evidence: Evidence


class AlternativesState(_Strict):
    value: Literal["quiet", "salient", "hot", "unknown"]
    evidence: Evidence


class TransitionState(_Strict):
    value: Literal["none", "upcoming", "underway", "unknown"]
    evidence: Evidence


class NetworkState(_Strict):
    value: Literal["supportive", "neutral", "opposed", "mixed", "unknown"]
    evidence: Evidence


class BreakupState(_Strict):
    value: Literal["none", "soft", "hard", "unknown"]
    evidence: Evidence


class RelationshipState(_Strict):
    """The couple's state after a scene: each variable a value and one line of evidence."""

    conflict: ConflictState
    repair_outcome: RepairState
    clarity: ClarityState
    constraints: ConstraintsState
    alternatives: AlternativesState
    transition: TransitionState
    network: NetworkState
    breakup_marker: BreakupState

    @classmethod
    @cache
    def unknown(cls) -> RelationshipState:
        """The declared fallback: nothing could be inferred. One shared instance (frozen, like
        everything in it): every state inference in flight holds it."""
        item = {"value": "unknown", "evidence": "(not inferred: fallback)"}
        return cls.model_validate(dict.fromkeys(STATE_VARIABLES, item))

    def values(self) -> dict[str, str]:
        return {name: getattr(self, name).value for name in STATE_VARIABLES}

    def as_event(self) -> dict[str, dict[str, str]]:
        return {name: getattr(self, name).model_dump() for name in STATE_VARIABLES}


class SceneChoice(_Strict):
    """The Scene Master's pick among eligible turning points (policy "scene_master")."""

    reason: Sentence
    turning_point: str = Field(description="the id of one of the candidates")

    @field_validator("turning_point")
    @classmethod
    def _offered(cls, value: str, info: ValidationInfo) -> str:
        candidates: list[str] = (info.context or {}).get("candidates", [])
        if candidates and value.strip() not in candidates:
            raise ValueError(f"turning_point must be one of {candidates}")
        return value.strip()


class KeyScene(_Strict):
    scene_index: int = Field(ge=0)
    change: float = Field(description="change in the couple's mean commitment in that scene")
    why: Sentence


class AfterActionReport(_Strict):
    """The couple-facing report at the end of a simulation."""

    trajectory: LongText
    key_scenes: Annotated[list[KeyScene], Field(max_length=5)]
    risk_markers: Annotated[list[Evidence], Field(max_length=8)]
    strength_markers: Annotated[list[Evidence], Field(max_length=8)]
    predicted_outcome: Literal["together", "separated"]
    probability: Unit = Field(description="probability of predicted_outcome, 0–1")


SCHEMAS: dict[str, type[BaseModel]] = {
    "scene_setup": SceneSetup,
    "perspective": Perspective,
    "beat": Beat,
    "choices": Choices,
    "action": Action,
    "appraisal": Appraisal,
    "memory_appraisal": MemoryAppraisals,
    "reflection": Reflection,
    "summary": SceneSummary,
    "commitment": CommitmentScore,
    "transition": Transition,
    "options": FramedOptions,
    "state": RelationshipState,
    "scene_choice": SceneChoice,
    "after_action_report": AfterActionReport,
}


def validation_context_for(purpose: str, context: dict[str, Any]) -> dict[str, Any] | None:
    """What a schema's validators need to know about the request (actors, option count…)."""
    if purpose == "beat":
        return {"actors": context["actors"]}
    if purpose == "action":
        return {"option_count": len(context["options"])}
    if purpose == "scene_choice":
        return {"candidates": [c["id"] for c in context["candidates"]]}
    if purpose == "memory_appraisal":
        return {"memory_count": len(context["memories"])}
    return None
