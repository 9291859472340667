"""Intake: a persona built from answers to short questionnaires (RELATE-Sim's two stages).

Stage one is deterministic scoring here: attachment (ECR-style anxiety and avoidance items →
style), Big Five (TIPI-style, ten items → traits 0–1), conflict style, love language and values.
Stage two is a model call (``intake`` purpose): from that evidence and the person's own words it
writes a 200–300-word second-person synopsis and 5–7 "If …, I …" rules.
"""

from __future__ import annotations

import re
from statistics import fmean
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.configfile import describe
from engine.errors import ConfigError
from engine.llm.caller import call_structured
from engine.llm.types import Provider
from engine.sim import prompts
from engine.sim.personas import RULES_COUNT, BigFive, Persona, check_rules, check_synopsis

LIKERT = (1, 7)  # 1 = disagree strongly … 7 = agree strongly

# (statement, dimension, reverse-keyed). Written for relsim, in the spirit of the ECR scales.
ATTACHMENT_ITEMS: tuple[tuple[str, Literal["anxiety", "avoidance"], bool], ...] = (
    ("I worry that a partner won't care about me as much as I care about them.", "anxiety", False),
    ("When a partner is slow to reply, I assume something is wrong between us.", "anxiety", False),
    ("I rarely worry about being left.", "anxiety", True),
    ("I feel uneasy when a partner wants to be very close.", "avoidance", False),
    ("I find it easy to depend on a partner.", "avoidance", True),
    ("I prefer to keep my deeper feelings to myself.", "avoidance", False),
)
# "I see myself as …" (TIPI layout: two items per trait, one of them reverse-keyed).
PERSONALITY_ITEMS: tuple[tuple[str, str, bool], ...] = (
    ("outgoing and full of energy", "extraversion", False),
    ("quick to criticise; argumentative", "agreeableness", True),
    ("dependable and organised", "conscientiousness", False),
    ("easily worried or upset", "stability", True),
    ("curious and full of new ideas", "openness", False),
    ("reserved and quiet", "extraversion", True),
    ("warm and considerate", "agreeableness", False),
    ("disorganised and careless", "conscientiousness", True),
    ("calm and emotionally steady", "stability", False),
    ("conventional; not very imaginative", "openness", True),
)
CONFLICT_STYLES = {
    "pursue": "Wants to talk it through right away and finds it hard to let an argument rest",
    "pause": "Asks for time to think, then comes back to finish the conversation",
    "withdraw": "Goes quiet or leaves the room, and returns to the subject only when pressed",
    "accommodate": "Gives way to keep the peace, sometimes at the cost of their own needs",
    "compete": "Argues the point hard and wants to win it before letting go",
    "compromise": "Looks quickly for a middle ground both can live with",
}
LOVE_LANGUAGES = (
    "words of affirmation",
    "quality time",
    "acts of service",
    "gifts",
    "physical touch",
)
VALUES_COUNT = (3, 5)
MAX_MEMORIES = 6

ConflictKey = Literal["pursue", "pause", "withdraw", "accommodate", "compete", "compromise"]
LoveLanguage = Literal[
    "words of affirmation", "quality time", "acts of service", "gifts", "physical touch"
]
Likert = Field(ge=LIKERT[0], le=LIKERT[1])


class IntakeAnswers(BaseModel):
    """What a person answers (interactively, or in an answers TOML file with these keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=80)
    age: int = Field(ge=18, le=120)
    pronouns: str = Field(min_length=1, max_length=30)
    occupation: str = Field(min_length=1, max_length=120)
    self_description: str = Field(min_length=20, max_length=2000)
    attachment: list[int] = Field(
        min_length=len(ATTACHMENT_ITEMS), max_length=len(ATTACHMENT_ITEMS)
    )
    personality: list[int] = Field(
        min_length=len(PERSONALITY_ITEMS), max_length=len(PERSONALITY_ITEMS)
    )
    conflict_style: ConflictKey
    love_language: LoveLanguage
    values: list[str] = Field(min_length=VALUES_COUNT[0], max_length=VALUES_COUNT[1])
    memories: list[str] = Field(default_factory=list, max_length=MAX_MEMORIES)

    @field_validator("attachment", "personality")
    @classmethod
    def _likert(cls, answers: list[int]) -> list[int]:
        low, high = LIKERT
        for number, value in enumerate(answers, 1):
            if not low <= value <= high:
                raise ValueError(f"item {number} must be from {low} to {high}, got {value}")
        return answers

    @field_validator("values", "memories")
    @classmethod
    def _no_blanks(cls, items: list[str]) -> list[str]:
        items = [" ".join(i.split()) for i in items]
        if any(not i for i in items):
            raise ValueError("entries cannot be empty")
        return items

    @field_validator("name")
    @classmethod
    def _has_letters(cls, name: str) -> str:
        if not re.search(r"[A-Za-z0-9]", name):
            raise ValueError("needs at least one letter or digit")
        return name


def parse_answers(data: dict[str, Any], source: str) -> IntakeAnswers:
    try:
        return IntakeAnswers.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, source)) from None


# -- stage one: scoring ---------------------------------------------------------------------------


def _keyed(value: int, reverse: bool) -> int:
    return LIKERT[0] + LIKERT[1] - value if reverse else value


def attachment_scores(answers: list[int]) -> dict[str, float]:
    """Mean anxiety and avoidance on 1–7."""
    out: dict[str, list[int]] = {"anxiety": [], "avoidance": []}
    for (_, dim, reverse), value in zip(ATTACHMENT_ITEMS, answers, strict=True):
        out[dim].append(_keyed(value, reverse))
    return {dim: round(fmean(vals), 2) for dim, vals in out.items()}


def attachment_style(anxiety: float, avoidance: float) -> str:
    """The four-category model: above the scale's midpoint counts as high."""
    mid = (LIKERT[0] + LIKERT[1]) / 2
    high_anx, high_avoid = anxiety > mid, avoidance > mid
    if high_anx and high_avoid:
        return "fearful"
    if high_anx:
        return "anxious"
    if high_avoid:
        return "avoidant"
    return "secure"


def big_five(answers: list[int]) -> BigFive:
    """Each trait is its two items' mean, rescaled from 1–7 to 0–1; neuroticism is the inverse
    of emotional stability."""
    by_trait: dict[str, list[int]] = {}
    for (_, trait, reverse), value in zip(PERSONALITY_ITEMS, answers, strict=True):
        by_trait.setdefault(trait, []).append(_keyed(value, reverse))
    span = LIKERT[1] - LIKERT[0]
    scaled = {t: (fmean(v) - LIKERT[0]) / span for t, v in by_trait.items()}
    return BigFive(
        openness=round(scaled["openness"], 2),
        conscientiousness=round(scaled["conscientiousness"], 2),
        extraversion=round(scaled["extraversion"], 2),
        agreeableness=round(scaled["agreeableness"], 2),
        neuroticism=round(1 - scaled["stability"], 2),
    )


def persona_id(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].rstrip("-") or "persona"


def evidence(answers: IntakeAnswers) -> dict[str, Any]:
    """What the instruments say, as facts for the writing model."""
    scores = attachment_scores(answers.attachment)
    return {
        "attachment": {
            **scores,
            "style": attachment_style(scores["anxiety"], scores["avoidance"]),
            "scale": "1-7",
        },
        "big_five": big_five(answers.personality).model_dump(),
        "conflict_style": {
            "approach": answers.conflict_style,
            "description": CONFLICT_STYLES[answers.conflict_style],
        },
        "love_language": answers.love_language,
        "values": answers.values,
    }


# -- stage two: writing ---------------------------------------------------------------------------


class IntakeWriting(BaseModel):
    """The model's part of a persona."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(min_length=20, max_length=800)
    synopsis: str
    if_then_rules: list[str] = Field(min_length=RULES_COUNT[0], max_length=RULES_COUNT[1])

    @field_validator("synopsis")
    @classmethod
    def _synopsis(cls, value: str) -> str:
        return check_synopsis(value)

    @field_validator("if_then_rules")
    @classmethod
    def _rules(cls, value: list[str]) -> list[str]:
        return check_rules(value)


def intake_context(answers: IntakeAnswers) -> dict[str, Any]:
    return {
        "person": answers.model_dump(
            include={"name", "age", "pronouns", "occupation", "self_description", "memories"}
        ),
        "evidence": evidence(answers),
    }


async def write_persona_async(answers: IntakeAnswers, provider: Provider) -> Persona:
    """The persona for ``answers``: scored here, synopsis and rules written by ``provider``."""
    context = intake_context(answers)
    result = await call_structured(
        provider,
        prompts.render("intake", context, name=answers.name),
        IntakeWriting,
        purpose="intake",
        context=context,
        temperature=0.7,
    )
    writing = result.value
    facts = context["evidence"]
    return Persona(
        id=persona_id(answers.name),
        name=answers.name,
        summary=writing.summary,
        age=answers.age,
        pronouns=answers.pronouns,
        occupation=answers.occupation,
        attachment_style=facts["attachment"]["style"],
        conflict_style=facts["conflict_style"]["description"],
        love_language=answers.love_language,
        values=answers.values,
        memories=answers.memories,
        traits=big_five(answers.personality),
        synopsis=writing.synopsis,
        if_then_rules=writing.if_then_rules,
    )


def persona_toml(persona: Persona) -> dict[str, Any]:
    """The persona as a persona file's table (no id: the file name is the id)."""
    data = persona.model_dump(exclude={"id"}, exclude_none=True)
    return {k: v for k, v in data.items() if v != []}
