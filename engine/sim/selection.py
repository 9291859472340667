"""Choosing the next scene from the relationship's state, and deciding how a simulation ends.

Pure functions (no model calls): the Scene Master uses them for ``policy = "state"`` and to find
the candidates it chooses among for ``policy = "scene_master"``.

The state heuristic (RELATE-Sim's "lightweight mapping from state to plausible categories"), in
order of precedence, after the first scene (which is always Initial Formation):

1. a hard breakup marker, or a soft one with low commitment (mean < 4) → Transitions or Endings;
2. conflict active or unresolved, or a failed repair → Conflict & Repair;
3. alternatives hot or salient, or the network opposed or mixed → Challenges or Tests;
4. a transition upcoming or underway → Transitions or Endings;
5. explicit clarity and high commitment (mean ≥ 7) → Deepening or Milestones;
6. clarity still unclear or tacit → Relationship Development;
7. otherwise the story widens: Other Modern Turning Points, Deepening or Milestones,
   Challenges or Tests, Relationship Development, in a seeded order.

Each rule adds its category to a preference list; a category played in both of the last two
scenes is moved to the back (stories need variety), and the first category with an eligible
turning point (``turning_points.eligible``) wins; the turning point within it is drawn with a
seed derived from the simulation seed and the scene index, so a run is reproducible.

How a simulation ends (``ending``): it ends early, ``separated``, after a scene whose breakup
marker is hard while the couple's mean commitment is below 4 (or any partner's is at most 2), or
after a Transitions-or-Endings scene with a soft marker and mean commitment below 3. Otherwise the
final outcome (``final_outcome``) is ``separated`` when the last state carries a hard breakup
marker or the last mean commitment is below 4, and ``together`` otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from engine.sim.schemas import RelationshipState
from engine.sim.turning_points import TurningPoint, eligible, library

Policy = Literal["state", "scene_master", "fixed"]
POLICIES: tuple[str, ...] = ("state", "scene_master", "fixed")
Outcome = Literal["together", "separated"]

SCENE_MASTER_CANDIDATES = 4
LOW_COMMITMENT = 4.0
HIGH_COMMITMENT = 7.0
OPENING = "Initial Formation"
WIDENING = (
    "Other Modern Turning Points",
    "Deepening or Milestones",
    "Challenges or Tests",
    "Relationship Development",
)


@dataclass(slots=True)
class Selection:
    turning_point: TurningPoint
    policy: Policy
    reason: str
    candidates: list[str] = field(default_factory=list)


def mean_commitment(scores: dict[str, list[int]]) -> float | None:
    latest = [s[-1] for s in scores.values() if s]
    return sum(latest) / len(latest) if latest else None


def preferred_categories(
    state: RelationshipState | None,
    commitment: float | None,
    scene_index: int,
    recent: Sequence[str] = (),
    seed: int = 0,
) -> tuple[list[str], str]:
    """Categories in order of preference, and the reason for the first one."""
    if scene_index == 0 or state is None:
        return [OPENING, "Relationship Development"], "the story opens: how they come together"
    v = state.values()
    low = commitment is not None and commitment < LOW_COMMITMENT
    high = commitment is not None and commitment >= HIGH_COMMITMENT
    ranked: list[tuple[str, str]] = []
    if v["breakup_marker"] == "hard" or (v["breakup_marker"] == "soft" and low):
        ranked.append(("Transitions or Endings", f"breakup marker {v['breakup_marker']}"))
    if v["conflict"] in ("active", "unresolved") or v["repair_outcome"] == "failed":
        ranked.append(
            ("Conflict & Repair", f"conflict {v['conflict']}, repair {v['repair_outcome']}")
        )
    if v["alternatives"] in ("hot", "salient") or v["network"] in ("opposed", "mixed"):
        ranked.append(
            ("Challenges or Tests", f"alternatives {v['alternatives']}, network {v['network']}")
        )
    if v["transition"] in ("upcoming", "underway"):
        ranked.append(("Transitions or Endings", f"a transition is {v['transition']}"))
    if v["clarity"] == "explicit" and high:
        ranked.append(("Deepening or Milestones", "explicit clarity and high commitment"))
    if v["clarity"] in ("unclear", "tacit"):
        ranked.append(("Relationship Development", f"clarity is {v['clarity']}"))
    widening = list(WIDENING)
    random.Random(f"widen:{seed}:{scene_index}").shuffle(widening)
    ranked.extend((c, "no pressing marker: the story widens") for c in widening)
    first: dict[str, str] = {}
    for category, why in ranked:
        first.setdefault(category, why)  # a category's first reason wins, in rank order
    ordered = list(first.items())
    # A category that filled both of the last two scenes yields to the others.
    if len(recent) >= 2 and recent[-1] == recent[-2]:
        ordered.sort(key=lambda cr: cr[0] == recent[-1])
    return [c for c, _ in ordered], ordered[0][1]


def eligible_in(
    category: str, scene_index: int, commitment: float | None, used: set[str],
    scenarios: str | Path | None = None,
) -> list[TurningPoint]:
    return [
        tp
        for tp in library(scenarios).values()
        if tp.category == category and eligible(tp, scene_index, commitment, used)
    ]


def candidates_for(
    state: RelationshipState | None,
    commitment: float | None,
    scene_index: int,
    played: Sequence[TurningPoint],
    seed: int,
    k: int = 1,
    scenarios: str | Path | None = None,
) -> tuple[list[TurningPoint], str]:
    """Up to ``k`` eligible turning points for the next scene (seeded), best category first,
    and the reason. Never empty: if nothing is eligible, any unplayed turning point will do."""
    used = {tp.id for tp in played}
    recent = [tp.category for tp in played]
    order, reason = preferred_categories(state, commitment, scene_index, recent, seed)
    rng = random.Random(f"select:{seed}:{scene_index}")
    picked: list[TurningPoint] = []
    first_reason = ""
    for category in order:
        pool = eligible_in(category, scene_index, commitment, used, scenarios)
        if not pool:
            continue
        rng.shuffle(pool)
        if not picked:
            first_reason = f"{category}: {reason}" if category == order[0] else (
                f"{category} (nothing eligible in {order[0]}; {reason})"
            )
        picked.extend(pool[: k - len(picked)])
        if len(picked) >= k:
            break
    if not picked:
        every = list(library(scenarios).values())
        pool = [tp for tp in every if tp.id not in used] or every
        picked = [rng.choice(pool)]
        first_reason = "nothing eligible: any unplayed turning point"
    return picked, first_reason


def select_by_state(
    state: RelationshipState | None,
    commitment: float | None,
    scene_index: int,
    played: Sequence[TurningPoint],
    seed: int,
    scenarios: str | Path | None = None,
) -> Selection:
    picked, reason = candidates_for(state, commitment, scene_index, played, seed,
                                    scenarios=scenarios)
    return Selection(picked[0], "state", reason, [picked[0].id])


def ending(
    state: RelationshipState | None, scores: dict[str, int], category: str
) -> Outcome | None:
    """``separated`` when the scene just played ends the relationship, else None."""
    if state is None or not scores:
        return None
    mean = sum(scores.values()) / len(scores)
    marker = state.breakup_marker.value
    if marker == "hard" and (mean < LOW_COMMITMENT or min(scores.values()) <= 2):
        return "separated"
    if category == "Transitions or Endings" and marker == "soft" and mean < 3.0:
        return "separated"
    return None


def final_outcome(state: RelationshipState | None, scores: dict[str, int]) -> Outcome:
    if state is not None and state.breakup_marker.value == "hard":
        return "separated"
    if scores and sum(scores.values()) / len(scores) < LOW_COMMITMENT:
        return "separated"
    return "together"

