"""Unit tests: the method's schemas and the state-driven selection heuristic (pure functions)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from engine.sim.schemas import FramedOptions, RelationshipState, SceneChoice
from engine.sim.selection import (
    candidates_for,
    ending,
    final_outcome,
    preferred_categories,
    select_by_state,
)
from engine.sim.turning_points import eligible


def state(**values: str) -> RelationshipState:
    base = RelationshipState.unknown().values() | {
        "conflict": "none", "repair_outcome": "none", "clarity": "tacit", "constraints": "none",
        "alternatives": "quiet", "transition": "none", "network": "neutral",
        "breakup_marker": "none",
    }
    base.update(values)
    return RelationshipState.model_validate(
        {k: {"value": v, "evidence": "seen"} for k, v in base.items()}
    )


def test_state_schema_rejects_unknown_values_and_has_a_declared_fallback() -> None:
    with pytest.raises(ValidationError):
        state(conflict="furious")
    fallback = RelationshipState.unknown()
    assert set(fallback.values().values()) == {"unknown"}


def test_framed_options_need_distinct_approaches_and_three_to_four() -> None:
    ok = FramedOptions.model_validate(
        {"options": [{"text": "Say sorry", "approach": "repair"},
                     {"text": "Leave", "approach": "withdraw"},
                     {"text": "Shout", "approach": "escalate"}]}
    )
    assert [o.approach for o in ok.as_options()] == ["repair", "withdraw", "escalate"]
    with pytest.raises(ValidationError):  # two options share an approach
        FramedOptions.model_validate(
            {"options": [{"text": "a", "approach": "repair"}, {"text": "b", "approach": "repair"},
                         {"text": "c", "approach": "assert"}]}
        )
    with pytest.raises(ValidationError):  # an unknown approach
        FramedOptions.model_validate(
            {"options": [{"text": "a", "approach": "sulk"}, {"text": "b", "approach": "repair"},
                         {"text": "c", "approach": "assert"}]}
        )


def test_scene_choice_must_name_a_candidate() -> None:
    ctx = {"candidates": ["x1", "x2"]}
    assert SceneChoice.model_validate({"reason": "r", "turning_point": "x2"}, context=ctx)
    with pytest.raises(ValidationError):
        SceneChoice.model_validate({"reason": "r", "turning_point": "x9"}, context=ctx)


@pytest.mark.parametrize(
    ("values", "commitment", "category"),
    [
        ({"breakup_marker": "hard"}, 6.0, "Transitions or Endings"),
        ({"conflict": "unresolved"}, 6.0, "Conflict & Repair"),
        ({"repair_outcome": "failed"}, 6.0, "Conflict & Repair"),
        ({"alternatives": "hot"}, 6.0, "Challenges or Tests"),
        ({"clarity": "explicit"}, 8.0, "Deepening or Milestones"),
        ({"clarity": "unclear"}, 6.0, "Relationship Development"),
        ({"transition": "underway", "clarity": "explicit"}, 6.0, "Transitions or Endings"),
    ],
)
def test_heuristic_maps_state_to_categories(
    values: dict[str, str], commitment: float, category: str
) -> None:
    order, reason = preferred_categories(state(**values), commitment, 4)
    assert order[0] == category and reason


def test_first_scene_is_initial_formation_and_choices_are_eligible_and_seeded() -> None:
    first = select_by_state(None, None, 0, [], seed=7)
    assert first.turning_point.category == "Initial Formation" and first.policy == "state"
    played = [first.turning_point]
    s = state(conflict="active")
    one = select_by_state(s, 5.0, 1, played, seed=7)
    again = select_by_state(s, 5.0, 1, played, seed=7)
    assert one.turning_point == again.turning_point  # reproducible from the seed
    assert eligible(one.turning_point, 1, 5.0, {tp.id for tp in played})
    picked, _ = candidates_for(s, 5.0, 3, played, seed=7, k=4)
    assert len({tp.id for tp in picked}) == len(picked) == 4


def test_a_category_that_filled_the_last_two_scenes_yields() -> None:
    s = state(conflict="unresolved")
    order, _ = preferred_categories(s, 6.0, 5, ["Conflict & Repair", "Conflict & Repair"])
    assert order[0] != "Conflict & Repair" and "Conflict & Repair" in order


def test_ending_rules() -> None:
    hard = state(breakup_marker="hard")
    assert ending(hard, {"A": 3, "B": 4}, "Conflict & Repair") == "separated"
    assert ending(hard, {"A": 8, "B": 8}, "Conflict & Repair") is None
    assert ending(state(breakup_marker="soft"), {"A": 2, "B": 3}, "Transitions or Endings") == (
        "separated"
    )
    assert ending(state(), {"A": 1, "B": 1}, "Conflict & Repair") is None
    assert final_outcome(state(), {"A": 7, "B": 6}) == "together"
    assert final_outcome(state(), {"A": 3, "B": 4}) == "separated"
    assert final_outcome(hard, {"A": 9, "B": 9}) == "separated"
