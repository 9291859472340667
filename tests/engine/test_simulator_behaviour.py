"""The built-in simulator behaves like a relationship, not a ramp (issue 13).

A statistical test over fixed-seed batches of every pair of the shipped personas, run in-process
with zero latency: tolerant thresholds on what the latent couple model must produce, not golden
values. Batches: the default policy (91 pairs × 3 replicates × 10 scenes), and the same pairs on
an all-negative and an all-positive fixed plan (one replicate each).
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean, pvariance

import pytest

from engine import RelationshipAgent, SceneMaster, Simulation
from engine.batch.spec import derive_seed
from engine.events import EventBase
from engine.sim.events import (
    ActionTaken,
    AppraisalMade,
    Narration,
    ReflectionMade,
    SceneSummarized,
    SimulationCompleted,
)
from engine.sim.personas import list_personas
from engine.sim.provider import SimProvider

BATCH_SEED = 13
REPLICATES = 3
SCENES = 10
BEATS = 3
NEGATIVE_PLAN = (
    "ex-reappears", "phone-snooping", "breach-of-trust", "first-major-argument",
    "relocation-conflict", "health-crisis-caregiving", "trial-separation",
    "breakup-conversation",
)
POSITIVE_PLAN = (
    "first-date", "first-kiss", "shared-routines", "key-exchange", "making-up",
    "adopting-a-pet", "shared-long-term-vision", "couple-friends", "engagement",
    "digital-detox-weekend",
)
WARM = ("repair", "affirm")


@dataclass
class Run:
    pair: tuple[str, str]
    seed: int
    trajectories: dict[str, list[int]] = field(default_factory=dict)
    approaches: list[str | None] = field(default_factory=list)
    outcome: str | None = None
    texts: list[str] = field(default_factory=list)


async def _simulate(
    provider: SimProvider, pa: str, pb: str, seed: int, plan: Sequence[str] | None
) -> Run:
    events: list[EventBase] = []
    a = RelationshipAgent.from_persona(pa, model=provider)
    b = RelationshipAgent.from_persona(pb, model=provider)
    sm = SceneMaster(a, b, model=provider, plan=list(plan) if plan else None)
    sim = Simulation(sm, a, b, seed=seed, num_scenes=len(plan) if plan else SCENES,
                     sim_id=f"{pa}-{pb}-{seed}", sink=events.append)
    await sim.run_auto_async(BEATS)
    run = Run((pa, pb), seed)
    for entry in sim.commitment_log:
        for name, c in entry.commitments.items():
            run.trajectories.setdefault(name, []).append(c.score)
    for event in events:
        if isinstance(event, ActionTaken):
            run.approaches.append(event.approach)
            run.texts += [event.line, event.inner_thoughts, event.behaviour]
        elif isinstance(event, AppraisalMade):
            run.texts.append(event.inner_thoughts)
        elif isinstance(event, Narration):
            run.texts.append(event.text)
        elif isinstance(event, SceneSummarized):
            run.texts.append(event.summary)
        elif isinstance(event, ReflectionMade):
            run.texts.append(event.text)
        elif isinstance(event, SimulationCompleted):
            run.outcome = event.outcome
            run.texts += [c.reasoning for e in event.commitment_log
                          for c in e.commitments.values()]
    return run


def _batch(plan: Sequence[str] | None, replicates: int) -> list[Run]:
    ids = [p.id for p in list_personas()]
    provider = SimProvider()
    jobs = [
        _simulate(provider, pa, pb, derive_seed(BATCH_SEED, pa, pb, r), plan)
        for pa, pb in itertools.combinations(ids, 2)
        for r in range(replicates)
    ]

    async def main() -> list[Run]:
        return list(await asyncio.gather(*jobs))

    return asyncio.run(main())


@pytest.fixture(scope="module")
def default_batch() -> list[Run]:
    return _batch(None, REPLICATES)


def _changes(runs: list[Run]) -> list[int]:
    return [t[-1] - t[0] for r in runs for t in r.trajectories.values()]


def _pearson(x: list[float], y: list[float]) -> float:
    mx, my = fmean(x), fmean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sx = sum((a - mx) ** 2 for a in x) ** 0.5
    sy = sum((b - my) ** 2 for b in y) ** 0.5
    return sxy / (sx * sy)


def _seed_share(runs: list[Run]) -> float:
    """The share of the variance of partners' trajectory means that lies within a persona pair
    (between its seeded replicates) rather than between pairs."""
    by_partner: dict[tuple[tuple[str, str], str], list[float]] = {}
    for r in runs:
        for name, t in r.trajectories.items():
            by_partner.setdefault((r.pair, name), []).append(fmean(t))
    values = [v for vs in by_partner.values() for v in vs]
    within = fmean(pvariance(vs) for vs in by_partner.values())
    return within / pvariance(values)


def _sentences(runs: list[Run]) -> set[str]:
    names = {w for p in list_personas() for w in p.name.split()}
    mask = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    out: set[str] = set()
    for r in runs:
        for text in r.texts:
            masked = re.sub(r"\d+(\.\d+)?", "#", mask.sub("N", text))
            out.update(s.strip() for s in re.split(r"(?<=[.!?])\s+", masked) if s.strip())
    return out


def figures(default: list[Run], negative: list[Run], positive: list[Run]) -> dict[str, float]:
    warm_share, change = [], []
    for r in default:
        chosen = [a for a in r.approaches if a is not None]
        if chosen:
            warm_share.append(sum(a in WARM for a in chosen) / len(chosen))
            change.append(fmean(t[-1] - t[0] for t in r.trajectories.values()))
    neg = _changes(negative)
    scores = {s for r in default for t in r.trajectories.values() for s in t}
    return {
        "negative_mean_change": fmean(neg),
        "negative_share_below_start": sum(c < 0 for c in neg) / len(neg),
        "positive_mean_change": fmean(_changes(positive)),
        "warm_share_vs_change_r": _pearson(warm_share, change),
        "seed_variance_share": _seed_share(default),
        "score_values_used": len(scores),
        "distinct_sentences": len(_sentences(default)),
        "separated_share": sum(r.outcome == "separated" for r in default) / len(default),
    }


def test_the_simulator_behaves_like_a_relationship(default_batch: list[Run]) -> None:
    negative = _batch(NEGATIVE_PLAN, 1)
    positive = _batch(POSITIVE_PLAN, 1)
    f = figures(default_batch, negative, positive)
    assert len(default_batch) == 273
    assert f["negative_mean_change"] < 0, f
    assert f["negative_share_below_start"] >= 0.6, f
    assert f["positive_mean_change"] > 0, f
    assert f["warm_share_vs_change_r"] >= 0.3, f
    assert f["seed_variance_share"] >= 0.2, f
    assert f["score_values_used"] >= 9, f
    assert f["distinct_sentences"] >= 2000, f
    # Some couples separate, most do not.
    assert 0.02 <= f["separated_share"] <= 0.6, f


if __name__ == "__main__":  # print the figures: python -m tests.engine.test_simulator_behaviour
    import time

    start = time.perf_counter()
    d = _batch(None, REPLICATES)
    mid = time.perf_counter()
    n, p = _batch(NEGATIVE_PLAN, 1), _batch(POSITIVE_PLAN, 1)
    end = time.perf_counter()
    for key, value in figures(d, n, p).items():
        print(f"{key:28} {value:.3f}")
    print(f"default batch {mid - start:.1f}s, plans {end - mid:.1f}s")
