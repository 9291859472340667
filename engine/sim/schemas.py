"""One pydantic schema per structured call purpose. Ranges are enforced, not suggested."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

EMOTIONS = ("joy", "acceptance", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Score = Annotated[int, Field(ge=0, le=10)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]


class _Strict(BaseModel):
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
    def neutral(cls) -> Emotions:
        return cls(**dict.fromkeys(EMOTIONS, 0.0))

    def vector(self) -> tuple[float, ...]:
        return tuple(getattr(self, e) for e in EMOTIONS)


class SceneSetup(_Strict):
    setting: Text
    conflict: Text
    goal_a: Text
    goal_b: Text
    opening: Text


class Beat(_Strict):
    narration: Text
    next_actor: str = Field(description="'A' or 'B' (or that partner's name): who acts next")

    @field_validator("next_actor")
    @classmethod
    def _known_actor(cls, value: str, info: ValidationInfo) -> str:
        """Normalise to 'A'/'B'; anything else (a raw id, a third name) is rejected."""
        actors: dict[str, str] = (info.context or {}).get("actors", {"a": "A", "b": "B"})
        role = actors.get(value.strip().lower())
        if role is None:
            raise ValueError(f"next_actor must be one of {sorted(set(actors))}")
        return role


class Option(_Strict):
    label: Annotated[str, Field(min_length=1, max_length=120)]
    description: Text


class Choices(_Strict):
    options: Annotated[list[Option], Field(min_length=3, max_length=4)]


class Action(_Strict):
    choice: int = Field(description="1-based number of the chosen option")
    inner_thoughts: Text
    line: Text = Field(description="what the character says aloud")
    behaviour: Text = Field(description="what the character does, briefly")

    @field_validator("choice")
    @classmethod
    def _offered(cls, value: int, info: ValidationInfo) -> int:
        count = (info.context or {}).get("option_count", 4)
        if not 1 <= value <= count:
            raise ValueError(f"choice must be between 1 and {count}")
        return value


class Appraisal(_Strict):
    emotions: Emotions
    inner_thoughts: Text

    @classmethod
    def neutral(cls) -> Appraisal:
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
    key_moments: Annotated[list[Text], Field(min_length=1, max_length=6)]


class CommitmentScore(_Strict):
    """Rusbult's investment model: satisfaction, alternatives, investment → commitment."""

    satisfaction: Score
    quality_of_alternatives: Score
    investment: Score
    commitment: Score
    reasoning: Text


class Transition(_Strict):
    bridge: Text
    time_passed: Annotated[str, Field(min_length=1, max_length=80)]


SCHEMAS: dict[str, type[BaseModel]] = {
    "scene_setup": SceneSetup,
    "beat": Beat,
    "choices": Choices,
    "action": Action,
    "appraisal": Appraisal,
    "memory_appraisal": MemoryAppraisals,
    "reflection": Reflection,
    "summary": SceneSummary,
    "commitment": CommitmentScore,
    "transition": Transition,
}


def validation_context_for(purpose: str, context: dict[str, Any]) -> dict[str, Any] | None:
    """What a schema's validators need to know about the request (actors, option count…)."""
    if purpose == "beat":
        return {"actors": context["actors"]}
    if purpose == "action":
        return {"option_count": len(context["options"])}
    if purpose == "memory_appraisal":
        return {"memory_count": len(context["memories"])}
    return None
