"""The turning-point library and scene plans drawn from it."""

from __future__ import annotations

import random
import tomllib
from collections.abc import Container
from functools import cache
from importlib import resources
from pathlib import Path
from string import Template
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.configfile import describe
from engine.errors import ConfigError
from engine.sim.records import TurningPointRef

CATEGORIES = (
    "Initial Formation",
    "Relationship Development",
    "Challenges or Tests",
    "Conflict & Repair",
    "Deepening or Milestones",
    "Other Modern Turning Points",
    "Transitions or Endings",
)
# rel_sim's default plan: two scenes of each of these, in this order.
DEFAULT_PLAN_CATEGORIES = (
    "Relationship Development",
    "Challenges or Tests",
    "Conflict & Repair",
    "Deepening or Milestones",
    "Other Modern Turning Points",
)
DEFAULT_SCENES = 10
# relsim's commitment score (per partner; a turning point's band is on the couple's mean).
COMMITMENT_LOW, COMMITMENT_HIGH = 0.0, 10.0


class TurningPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    category: Literal[
        "Initial Formation",
        "Relationship Development",
        "Challenges or Tests",
        "Conflict & Repair",
        "Deepening or Milestones",
        "Other Modern Turning Points",
        "Transitions or Endings",
    ]
    title: str
    uncertainty: Literal["self", "partner", "relationship"]
    strain: float = Field(ge=0.0, le=1.0)
    scenario: str
    # Eligibility. The defaults set no limit on commitment or scene, and play a scene at most once,
    # so a library that omits them (an external file, an older copy) still loads and behaves.
    repeatable: bool = False
    # The band of the couple's mean commitment (0–10) in which the scene is plausible.
    commitment_min: float = Field(default=COMMITMENT_LOW, ge=COMMITMENT_LOW, le=COMMITMENT_HIGH)
    commitment_max: float = Field(default=COMMITMENT_HIGH, ge=COMMITMENT_LOW, le=COMMITMENT_HIGH)
    min_scene: int = Field(default=0, ge=0)  # the earliest 0-based scene index
    # Whether the event itself is a bonding opportunity or a threat.
    valence: Literal["positive", "negative", "mixed"] = "mixed"
    tags: tuple[str, ...] = ()  # a tuple keeps the frozen model hashable

    @model_validator(mode="after")
    def _band_is_ordered(self) -> TurningPoint:
        if self.commitment_min > self.commitment_max:
            raise ValueError(
                f"commitment_min {self.commitment_min} exceeds commitment_max {self.commitment_max}"
            )
        return self

    def ref(self) -> TurningPointRef:
        return TurningPointRef(
            id=self.id, category=self.category, title=self.title, uncertainty=self.uncertainty
        )

    def scenario_for(self, name_a: str, name_b: str) -> str:
        return Template(self.scenario).safe_substitute(a=name_a, b=name_b)


def parse_library(text: str, source: str) -> dict[str, TurningPoint]:
    """The turning points in a library TOML text (``[[turning_point]]`` tables), by id."""
    try:
        entries = tomllib.loads(text).get("turning_point")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: no [[turning_point]] entries")
    lib: dict[str, TurningPoint] = {}
    for number, entry in enumerate(entries, 1):
        try:
            tp = TurningPoint.model_validate(entry)
        except ValidationError as exc:
            raise ConfigError(describe(exc, f"{source}: turning point {number}")) from None
        if tp.id in lib:  # a repeated id would silently replace an earlier entry
            raise ConfigError(f"{source}: the turning-point library repeats the id '{tp.id}'")
        lib[tp.id] = tp
    return lib


@cache
def _shipped() -> dict[str, TurningPoint]:
    text = resources.files("engine.sim").joinpath("data/turning_points.toml").read_text("utf-8")
    return parse_library(text, "the shipped turning-point library")


@cache
def _user_library(path: Path, replace: bool) -> dict[str, TurningPoint]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such scenario library") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    user = parse_library(text, str(path))
    return user if replace else {**_shipped(), **user}


def library(path: str | Path | None = None, *, replace: bool = False) -> dict[str, TurningPoint]:
    """The turning points by id: the shipped library, or with ``path`` (a user library in the
    same TOML format) the shipped one plus the user's entries — or, with ``replace``, the user's
    alone. A user entry with a shipped id overrides it. Each file is read once per process."""
    if path is None:
        return _shipped()
    return _user_library(Path(path).expanduser().resolve(), replace)


def strain_of(turning_point_id: str) -> float:
    tp = library().get(turning_point_id)
    return tp.strain if tp else 0.5


def get_turning_point(key: str, scenarios: str | Path | None = None) -> TurningPoint:
    try:
        return library(scenarios)[key]
    except KeyError:
        raise ConfigError(f"unknown turning point '{key}'") from None


def eligible(
    tp: TurningPoint,
    scene_index: int,
    commitment: float | None,
    used_ids: Container[str] = (),
) -> bool:
    """Whether ``tp`` may be the scene at 0-based ``scene_index``, given the couple's mean
    commitment so far (``None`` before any has been scored: the band is not checked) and the ids
    of the turning points already played."""
    if scene_index < tp.min_scene:
        return False
    if not tp.repeatable and tp.id in used_ids:
        return False
    if commitment is None:
        return True
    return tp.commitment_min <= commitment <= tp.commitment_max


def build_plan(
    num_scenes: int = DEFAULT_SCENES,
    seed: int = 0,
    categories: tuple[str, ...] = DEFAULT_PLAN_CATEGORIES,
    scenarios: str | Path | None = None,
) -> list[TurningPoint]:
    """Pick ``num_scenes`` turning points: categories in story order, two per category for the
    default ten, spread evenly for other lengths; no turning point repeats while any is left.
    ``scenarios`` names a user library to draw from (see ``library``)."""
    if num_scenes < 1:
        raise ConfigError("a plan needs at least one scene")
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise ConfigError(f"unknown turning-point categories: {', '.join(unknown)}")
    rng = random.Random(f"plan:{seed}")
    sequence = [categories[i * len(categories) // num_scenes] for i in range(num_scenes)]
    lib = library(scenarios)
    pools = {c: [tp for tp in lib.values() if tp.category == c] for c in categories}
    for pool in pools.values():
        rng.shuffle(pool)
    plan: list[TurningPoint] = []
    for index, category in enumerate(sequence):
        pool = pools[category]
        plan.append(pool[index % len(pool)] if pool else rng.choice(list(lib.values())))
    return plan
