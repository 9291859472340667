"""Importing a scenario library in rel_sim's turing_points.json format (a synthetic fixture)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ConfigError
from engine.sim.scenario_import import (
    CATEGORY_STRAIN,
    convert_library,
    convert_placeholders,
    normalise_category,
    to_toml,
)
from engine.sim.turning_points import build_plan, get_turning_point, library, parse_library

FIXTURE = Path(__file__).parents[1] / "fixtures" / "turning_points_sample.json"


def entry(**overrides: Any) -> dict[str, Any]:
    base = {"turning_point": "T", "category": "Conflict & Repair", "scenario": "[partner_a] waits."}
    return base | overrides


def test_fixture_converts_with_scaled_bands_placeholders_and_unique_ids() -> None:
    tps = convert_library(FIXTURE.read_bytes(), "sample.json")
    assert [tp.id for tp in tps] == [
        "the-lighthouse-weekend", "the-lighthouse-weekend-2", "night-shift-swap",
        "keys-exchanged", "a-message-from-an-ex",
    ]
    first, second, third, fourth, fifth = tps
    assert first.category == "Relationship Development" and first.uncertainty == "partner"
    assert (first.commitment_min, first.commitment_max, first.min_scene) == (2.0, 8.0, 1)
    assert first.repeatable is False and second.repeatable is True
    assert first.scenario.startswith("A borrowed cabin on the coast, off-season. $a booked")
    assert first.scenario_for("Ana", "Ben").count("Ben") == 1  # [Partner_B]: case is ignored
    # a placeholder glued to a letter keeps its name; a literal dollar survives substitution
    assert "$$40" in second.scenario and "${a}s sister" in second.scenario
    rendered = second.scenario_for("Ana", "Ben")
    assert "$40" in rendered and "Anas sister" in rendered
    assert second.category == "Conflict & Repair" and second.uncertainty == "relationship"
    assert third.category == "Challenges or Tests" and third.commitment_min == 3.55
    # missing optional fields take the defaults: no band, any scene, once only
    assert fourth.category == "Deepening or Milestones" and fourth.uncertainty == "relationship"
    assert (fourth.commitment_min, fourth.commitment_max, fourth.min_scene) == (0.0, 10.0, 0)
    assert fifth.category == "Other Modern Turning Points"
    # strain follows the category, a little higher for doubt about the relationship itself
    assert third.strain == CATEGORY_STRAIN["Challenges or Tests"]
    assert second.strain > CATEGORY_STRAIN["Conflict & Repair"]


def test_written_toml_loads_as_a_library(tmp_path: Path) -> None:
    tps = convert_library(FIXTURE.read_bytes(), "sample.json")
    path = tmp_path / "lib.toml"
    path.write_text(to_toml(tps, "sample.json"), "utf-8")
    assert list(parse_library(path.read_text("utf-8"), str(path)).values()) == tps
    merged = library(path)
    assert set(merged) == set(library()) | {tp.id for tp in tps}
    assert library(path) is merged  # cached per path
    alone = library(path, replace=True)
    assert set(alone) == {tp.id for tp in tps}
    assert get_turning_point("keys-exchanged", path).title == "Keys Exchanged"
    with pytest.raises(ConfigError, match="unknown turning point"):
        get_turning_point("keys-exchanged")  # the shipped library is still the default
    plan = build_plan(5, seed=3, categories=("Deepening or Milestones",), scenarios=path)
    assert any(tp.id == "keys-exchanged" for tp in plan)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[1, 2", "not valid JSON"),
        ("{}", "expected a non-empty JSON list"),
        ("[]", "expected a non-empty JSON list"),
        (json.dumps([entry(category="Romance")]), "entry 1 ('T'): unknown category 'Romance'"),
        (json.dumps([entry(), entry(turning_point=None)]), "entry 2: missing turning_point"),
        (json.dumps([entry(scenario=" ")]), "missing scenario"),
        (json.dumps([entry(commitment_lower=120)]), "commitment_lower must be from 0 to 100"),
        (json.dumps([entry(commitment_lower="lots")]), "commitment_lower must be a number"),
        (json.dumps([entry(commitment_lower=80, commitment_upper=20)]), "exceeds commitment_max"),
        (json.dumps([entry(min_scenes_from_start=-1)]), "min_scenes_from_start must be"),
        (json.dumps([entry(repeatability="sometimes")]), "repeatability 'sometimes'"),
        (json.dumps([entry(uncertainty_type="cosmic")]), "unknown uncertainty_type"),
        (json.dumps(["just text"]), "entry 1: expected an object"),
    ],
)
def test_bad_entries_name_the_entry_and_the_problem(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        convert_library(text.encode(), "lib.json")
    assert str(err.value).startswith("lib.json: ") and needle in str(err.value)


def test_category_names_are_tolerant() -> None:
    for raw in ("conflict & repair", "Conflict and Repair", " CONFLICT&REPAIR ", "conflict/repair"):
        assert normalise_category(raw) == "Conflict & Repair"
    with pytest.raises(ValueError):
        normalise_category("conflict")


def test_placeholders() -> None:
    assert convert_placeholders("[partner_a] and [ PARTNER-B ]") == "$a and $b"
    assert convert_placeholders("[partner_b]'s") == "$b's"


def test_user_library_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such scenario library"):
        library(tmp_path / "missing.toml")
    dup = tmp_path / "dup.toml"
    one = (
        'id = "x"\ncategory = "Conflict & Repair"\ntitle = "X"\nuncertainty = "self"\n'
        'strain = 0.5\nscenario = "s"\n'
    )
    dup.write_text(f"[[turning_point]]\n{one}\n[[turning_point]]\n{one}")
    with pytest.raises(ConfigError, match="repeats the id 'x'"):
        library(dup)
    bad = tmp_path / "bad.toml"
    bad.write_text(f"[[turning_point]]\n{one.replace('0.5', '3')}")
    with pytest.raises(ConfigError, match=r"bad\.toml: turning point 1: strain"):
        library(bad)
