"""Reading personality out of a persona profile, the way the simulator 'understands' a persona.

Structured personas carry their Big Five traits and attachment style; free-text personas ("a
thoughtful introvert who…") are read by keyword, with a stable hash-based default for the rest.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

ATTACHMENT_STYLES = ("secure", "anxious", "avoidant", "fearful")

# keyword -> (trait, value). Checked against the lower-cased free-text persona.
_KEYWORDS: dict[str, tuple[str, float]] = {
    "introvert": ("extraversion", 0.2),
    "shy": ("extraversion", 0.25),
    "quiet": ("extraversion", 0.3),
    "thoughtful": ("openness", 0.75),
    "extrovert": ("extraversion", 0.85),
    "outgoing": ("extraversion", 0.85),
    "socializ": ("extraversion", 0.8),
    "creative": ("openness", 0.85),
    "artist": ("openness", 0.85),
    "curious": ("openness", 0.8),
    "career": ("conscientiousness", 0.8),
    "driven": ("conscientiousness", 0.8),
    "organized": ("conscientiousness", 0.85),
    "in the moment": ("conscientiousness", 0.3),
    "spontaneous": ("conscientiousness", 0.3),
    "kind": ("agreeableness", 0.8),
    "caring": ("agreeableness", 0.8),
    "warm": ("agreeableness", 0.8),
    "stubborn": ("agreeableness", 0.3),
    "critical": ("agreeableness", 0.3),
    "anxious": ("neuroticism", 0.75),
    "worr": ("neuroticism", 0.7),
    "calm": ("neuroticism", 0.2),
    "steady": ("neuroticism", 0.25),
}
_ATTACHMENT_WORDS = {
    "anxious": "anxious",
    "clingy": "anxious",
    "reassurance": "anxious",
    "independent": "avoidant",
    "avoid": "avoidant",
    "distant": "avoidant",
    "guarded": "fearful",
    "secure": "secure",
    "steady": "secure",
}


@dataclass(frozen=True, slots=True)
class Traits:
    openness: float
    conscientiousness: float
    extraversion: float
    agreeableness: float
    neuroticism: float
    attachment: str


def _stable_unit(text: str, salt: str) -> float:
    return (zlib.crc32(f"{salt}:{text}".encode()) % 1000) / 1000.0


def traits_of(profile: dict[str, Any]) -> Traits:
    """Traits from a profile dict (see ``Persona.profile``)."""
    given = profile.get("traits") or {}
    text = str(profile.get("summary", "")).lower()
    name = str(profile.get("name", ""))
    values: dict[str, float] = {}
    for trait in ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"):
        if trait in given:
            values[trait] = float(given[trait])
        else:
            values[trait] = 0.3 + 0.4 * _stable_unit(name + text, trait)
    if not given:
        for word, (trait, value) in _KEYWORDS.items():
            if word in text:
                values[trait] = value
    attachment = profile.get("attachment_style")
    if attachment not in ATTACHMENT_STYLES:
        attachment = next((s for w, s in _ATTACHMENT_WORDS.items() if w in text), None)
        if attachment is None:
            attachment = ATTACHMENT_STYLES[int(_stable_unit(name + text, "attach") * 3.99)]
    return Traits(attachment=attachment, **values)


_ATTACHMENT_FRICTION = {
    frozenset({"anxious", "avoidant"}): 0.22,
    frozenset({"fearful", "avoidant"}): 0.15,
    frozenset({"fearful", "anxious"}): 0.12,
    frozenset({"fearful"}): 0.1,
    frozenset({"anxious"}): 0.06,
    frozenset({"avoidant"}): 0.1,
}


def compatibility(a: Traits, b: Traits) -> float:
    """The latent fit of a pair, roughly 0..1: similar values and openness, kindness and calm
    help; the anxious–avoidant trap hurts."""
    similarity = (
        1 - (abs(a.openness - b.openness) + abs(a.conscientiousness - b.conscientiousness)) / 2
    )
    warmth = (a.agreeableness + b.agreeableness) / 2
    calm = 1 - (a.neuroticism + b.neuroticism) / 2
    secure_bonus = 0.06 * ((a.attachment == "secure") + (b.attachment == "secure"))
    friction = _ATTACHMENT_FRICTION.get(frozenset({a.attachment, b.attachment}), 0.0)
    score = 0.3 * similarity + 0.35 * warmth + 0.25 * calm + 0.1 + secure_bonus - friction
    return max(0.0, min(1.0, score))
