import re
import tomllib
from collections import Counter
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from engine.errors import ConfigError
from engine.sim.turning_points import (
    CATEGORIES,
    DEFAULT_PLAN_CATEGORIES,
    TurningPoint,
    build_plan,
    eligible,
    library,
)


def raw_entries() -> list[dict[str, Any]]:
    text = resources.files("engine.sim").joinpath("data/turning_points.toml").read_text("utf-8")
    entries: list[dict[str, Any]] = tomllib.loads(text)["turning_point"]
    return entries


def make(**overrides: Any) -> TurningPoint:
    fields: dict[str, Any] = {
        "id": "t",
        "category": "Conflict & Repair",
        "title": "T",
        "uncertainty": "self",
        "strain": 0.5,
        "scenario": "$a and $b talk. $b listens.",
    }
    return TurningPoint.model_validate(fields | overrides)


def test_library_covers_every_category() -> None:
    lib = library()
    assert len(lib) >= 160
    counts = Counter(tp.category for tp in lib.values())
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 18, counts
    assert {tp.uncertainty for tp in lib.values()} == {"self", "partner", "relationship"}


def test_uncertainty_types_are_balanced() -> None:
    lib = library().values()
    for category in CATEGORIES:
        counts = Counter(tp.uncertainty for tp in lib if tp.category == category)
        assert set(counts) == {"self", "partner", "relationship"}, category
    overall = Counter(tp.uncertainty for tp in lib)
    assert min(overall.values()) >= len(lib) // 4, overall


def test_ids_are_unique_and_every_entry_states_its_eligibility() -> None:
    entries = raw_entries()
    ids = [e["id"] for e in entries]
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    assert len(library()) == len(entries)
    for entry in entries:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry["id"]), entry["id"]
        # Shipped entries state every field, eligibility included: none relies on a default.
        assert set(entry) == set(TurningPoint.model_fields), entry["id"]
        TurningPoint.model_validate(entry)


def test_fields_are_sensible() -> None:
    for tp in library().values():
        assert tp.title.strip() and tp.scenario.strip(), tp.id
        assert 0.0 <= tp.commitment_min < tp.commitment_max <= 10.0, tp.id
        assert tp.tags and len(set(tp.tags)) == len(tp.tags), tp.id
        assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", tag) for tag in tp.tags), tp.id
        # Two to four sentences: a scene seed, not a story.
        sentences = re.findall(r"[.!?]['\"]?(?:\s|$)", tp.scenario)
        assert 2 <= len(sentences) <= 4, tp.id


def test_placeholders_are_filled() -> None:
    for tp in library().values():
        assert "$a" in tp.scenario and "$b" in tp.scenario, tp.id
        text = tp.scenario_for("Ana", "Ben")
        assert "$" not in text and "Ana" in text and "Ben" in text


def test_strain_tracks_valence() -> None:
    lib = library()

    def mean_strain(valence: str) -> float:
        values = [tp.strain for tp in lib.values() if tp.valence == valence]
        return sum(values) / len(values)

    assert mean_strain("negative") > mean_strain("mixed") > mean_strain("positive")
    assert lib["breach-of-trust"].strain > lib["first-trip-together"].strain


def test_taxonomy_shape() -> None:
    lib = library().values()
    formation = [tp for tp in lib if tp.category == "Initial Formation"]
    assert all(tp.min_scene == 0 for tp in formation)
    assert sum(tp.repeatable for tp in formation) <= len(formation) // 4
    endings = [tp for tp in lib if tp.category == "Transitions or Endings"]
    assert all(tp.min_scene >= 2 for tp in endings)
    assert sum(tp.commitment_max < 10 for tp in endings) >= 0.75 * len(endings)
    deepening = [tp for tp in lib if tp.category == "Deepening or Milestones"]
    assert all(tp.commitment_min >= 3 and tp.min_scene >= 2 for tp in deepening)
    assert {tp.valence for tp in lib} == {"positive", "negative", "mixed"}


def test_examples_from_the_issue() -> None:
    lib = library()
    assert (lib["engagement"].commitment_min, lib["engagement"].commitment_max) == (6, 10)
    assert (lib["first-date"].commitment_min, lib["first-date"].commitment_max) == (0, 10)
    trial = lib["trial-separation"]
    assert (trial.commitment_min, trial.commitment_max) == (0, 6)
    assert lib["marriage-or-coparenting-plans"].min_scene >= 4
    assert lib["first-meeting-in-person"].min_scene == 0
    assert not lib["first-kiss"].repeatable and not lib["engagement"].repeatable
    assert lib["chores-fight"].repeatable


def test_every_state_has_somewhere_to_go() -> None:
    lib = library().values()
    opening = {tp.category for tp in lib if eligible(tp, 0, None, ())}
    assert "Initial Formation" in opening
    assert opening <= {"Initial Formation", "Relationship Development"}
    for scene in range(1, 12):
        for commitment in [c / 2 for c in range(21)]:
            cats = {tp.category for tp in lib if eligible(tp, scene, commitment, ())}
            assert len(cats) >= 5, (scene, commitment, cats)
    late_low = {tp.category for tp in lib if eligible(tp, 6, 1.0, ())}
    late_high = {tp.category for tp in lib if eligible(tp, 6, 9.0, ())}
    assert "Transitions or Endings" in late_low and "Deepening or Milestones" not in late_low
    assert "Deepening or Milestones" in late_high


def test_defaults_let_external_entries_omit_eligibility() -> None:
    tp = make()
    assert not tp.repeatable
    assert (tp.commitment_min, tp.commitment_max, tp.min_scene) == (0.0, 10.0, 0)
    assert tp.valence == "mixed" and tp.tags == ()
    assert hash(make(tags=["a", "b"])) == hash(make(tags=("a", "b")))  # frozen, list → tuple


@pytest.mark.parametrize(
    "bad",
    [
        {"commitment_min": 7, "commitment_max": 3},
        {"commitment_max": 11},
        {"commitment_min": -1},
        {"min_scene": -1},
        {"valence": "neutral"},
        {"repeatable": "sometimes"},
        {"strain": 1.5},
    ],
)
def test_bad_eligibility_is_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make(**bad)


def test_eligible_min_scene() -> None:
    tp = make(min_scene=3)
    assert not eligible(tp, 2, 5.0, ())
    assert eligible(tp, 3, 5.0, ())
    assert eligible(tp, 9, 5.0, ())


def test_eligible_commitment_band_is_inclusive() -> None:
    tp = make(commitment_min=4, commitment_max=7)
    assert not eligible(tp, 0, 3.9, ())
    assert eligible(tp, 0, 4.0, ())
    assert eligible(tp, 0, 7.0, ())
    assert not eligible(tp, 0, 7.1, ())
    assert eligible(tp, 0, None, ())  # no commitment scored yet: the band does not apply


def test_eligible_repeatability() -> None:
    once = make(id="once")
    again = make(id="again", repeatable=True)
    assert eligible(once, 1, 5.0, [])
    assert not eligible(once, 1, 5.0, ["once"])
    assert eligible(once, 1, 5.0, {"other"})
    assert eligible(again, 1, 5.0, {"again"})
    # Every check applies: a repeatable scene still waits for its earliest scene.
    assert not eligible(make(id="again", repeatable=True, min_scene=4), 1, 5.0, {"again"})


def test_default_plan_is_two_scenes_per_default_category() -> None:
    plan = build_plan()
    assert len(plan) == 10
    assert [tp.category for tp in plan] == [c for c in DEFAULT_PLAN_CATEGORIES for _ in range(2)]
    assert len({tp.id for tp in plan}) == 10


def test_plans_are_seeded() -> None:
    assert build_plan(10, 1) == build_plan(10, 1)
    assert [tp.id for tp in build_plan(10, 1)] != [tp.id for tp in build_plan(10, 2)]
    assert len(build_plan(3, 0)) == 3


def test_plans_cover_every_category_when_asked() -> None:
    plan = build_plan(14, 5, CATEGORIES)
    assert [tp.category for tp in plan] == [c for c in CATEGORIES for _ in range(2)]
    assert len({tp.id for tp in plan}) == 14


def test_bad_plan_length() -> None:
    with pytest.raises(ConfigError):
        build_plan(0)
