"""Intake scoring (deterministic) and the simulator's intake writer."""

from __future__ import annotations

import random

import pytest

from engine.sim.intake import (
    ATTACHMENT_ITEMS,
    IntakeAnswers,
    IntakeWriting,
    attachment_scores,
    attachment_style,
    big_five,
    intake_context,
    persona_id,
)
from engine.sim.intake_writer import write_intake

BASE = {
    "name": "Ada Lind", "age": 30, "pronouns": "she/her", "occupation": "Engineer",
    "self_description": "I like mountains and honest people.",
    "attachment": [4, 4, 4, 4, 4, 4], "personality": [4] * 10,
    "conflict_style": "pause", "love_language": "gifts", "values": ["a", "b", "c"],
}


def test_attachment_scoring_keys_reversed_items_and_maps_quadrants() -> None:
    assert len(ATTACHMENT_ITEMS) == 6
    # agreeing with "I rarely worry about being left" lowers anxiety
    assert attachment_scores([7, 7, 7, 1, 1, 1]) == {"anxiety": 5.0, "avoidance": 3.0}
    assert attachment_scores([7, 7, 1, 7, 1, 7]) == {"anxiety": 7.0, "avoidance": 7.0}
    assert attachment_style(2.0, 2.0) == "secure"
    assert attachment_style(5.5, 2.0) == "anxious"
    assert attachment_style(2.0, 5.5) == "avoidant"
    assert attachment_style(5.5, 5.5) == "fearful"
    assert attachment_style(4.0, 4.0) == "secure"  # the midpoint itself is not high


def test_big_five_scoring() -> None:
    top = big_five([7, 1, 7, 1, 7, 1, 7, 1, 7, 1])
    assert top.model_dump() == {
        "openness": 1.0, "conscientiousness": 1.0, "extraversion": 1.0,
        "agreeableness": 1.0, "neuroticism": 0.0,
    }
    assert big_five([4] * 10).openness == 0.5
    assert big_five([1, 7, 1, 7, 1, 7, 1, 7, 1, 7]).neuroticism == 1.0


def test_persona_id() -> None:
    assert persona_id("  Zoë O'Neil ") == "zo-o-neil"
    assert persona_id("!!!") == "persona"


@pytest.mark.parametrize("style", ["pursue", "pause", "withdraw", "accommodate", "compete",
                                   "compromise"])
def test_simulator_writer_is_schema_valid_for_every_conflict_style(style: str) -> None:
    for seed in range(5):
        answers = IntakeAnswers.model_validate(
            BASE | {"conflict_style": style,
                    "attachment": [random.Random(seed).randint(1, 7) for _ in range(6)],
                    "personality": [random.Random(seed + 9).randint(1, 7) for _ in range(10)],
                    "self_description": "word " * (5 + 30 * seed)}
        )
        written = IntakeWriting.model_validate(
            write_intake(intake_context(answers), random.Random(seed))
        )
        assert "Ada" in written.synopsis
