from collections import Counter

import pytest

from engine.errors import ConfigError
from engine.sim.turning_points import CATEGORIES, DEFAULT_PLAN_CATEGORIES, build_plan, library


def test_library_covers_every_category() -> None:
    lib = library()
    assert len(lib) >= 40
    counts = Counter(tp.category for tp in lib.values())
    assert set(counts) == set(CATEGORIES)
    assert {tp.uncertainty for tp in lib.values()} == {"self", "partner", "relationship"}


def test_placeholders_are_filled() -> None:
    for tp in library().values():
        text = tp.scenario_for("Ana", "Ben")
        assert "$" not in text and "Ana" in text and "Ben" in text


def test_default_plan_is_two_scenes_per_default_category() -> None:
    plan = build_plan()
    assert len(plan) == 10
    assert [tp.category for tp in plan] == [c for c in DEFAULT_PLAN_CATEGORIES for _ in range(2)]
    assert len({tp.id for tp in plan}) == 10


def test_plans_are_seeded() -> None:
    assert build_plan(10, 1) == build_plan(10, 1)
    assert [tp.id for tp in build_plan(10, 1)] != [tp.id for tp in build_plan(10, 2)]
    assert len(build_plan(3, 0)) == 3


def test_bad_plan_length() -> None:
    with pytest.raises(ConfigError):
        build_plan(0)
