"""The RELATE-Sim method's figures on the simulator: calls, prompt tokens, outcomes, scenes.

One batch, in-process on the simulator (latency 0): all pairs of the shipped personas
(``personas = "all"``, ``pairing = "all_pairs"``: 14 personas → 91 simulations per replicate),
10 scenes × 3 beats, the default scene-selection policy (``state``), seed 1. From its
``events.jsonl`` (read with ``RunReader.iter_objects``) it prints:

* chat calls per scene: ``call_completed`` events / scenes played (``scene_ended``), for one
  simulation that played all 10 scenes (the README's "25.2 chat calls per scene") and for the
  whole batch. Embeddings are not counted: they emit no ``call_completed`` event. Per-simulation
  calls (transitions, after-action report, identity-memory appraisals) are spread over the
  scenes the simulation played;
* prompt tokens per scene: on ``sim`` these are the simulator's estimate (characters / 4 of
  each prompt message), not a real tokenizer's count;
* calls per scene by purpose;
* the share of simulations ending ``separated`` (count, exact Clopper-Pearson 95 % interval),
  how many ended early, mean scenes played;
* scenes per turning-point category (``scene_started``).

    python -m pytest tests/perf/bench_method.py -s       Knob: RELSIM_BENCH_REPLICATES (1)
    python tests/perf/bench_method.py

The "before" figures (the code just before the method, commit f53b7dd^1) cannot come from
this file: that code has no outcomes, states or policies. Measure them by running the same
batch (same scenes, beats, seed) with that commit's own interpreter. Measured so (all pairs,
10 × 3, seed 1): 21.10 chat calls per scene (setup 1, perspectives 2, 4 per beat, summary 1,
commitments 2, reflections 2, transitions 0.9, memory appraisals 0.2), 36,999 prompt tokens per
scene (1,753 per call: the Scene Master's prompts then carried both partners' synopsis and
if-then rules, which the method keeps to each persona's own prompts).
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scipy.stats import binomtest

from engine.batch.gctune import batch_gc
from engine.batch.reader import RunReader
from engine.batch.runner import BatchRunner
from engine.batch.spec import BatchSpec, calls_per_simulation
from engine.sim.sources import user_source
from engine.sim.turning_points import CATEGORIES

SCENES, BEATS, SEED = 10, 3, 1
REPLICATES = int(os.environ.get("RELSIM_BENCH_REPLICATES", "1"))
# The README: "one simulation of 10 scenes × 3 beats makes 25.2 chat calls per scene".
README_CALLS_PER_SCENE = 25.2
SANE_CALLS_PER_SCENE = (15.0, 40.0)


@dataclass
class SimFigures:
    """One simulation's accounting, from its events."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    scenes: int = 0
    outcome: str | None = None
    ended_early: bool = False
    completed: bool = False
    failed: bool = False


@dataclass
class RunFigures:
    sims: dict[str, SimFigures] = field(default_factory=dict)
    calls_by_purpose: Counter[str] = field(default_factory=Counter)
    prompt_by_purpose: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)

    @property
    def scenes(self) -> int:
        return sum(s.scenes for s in self.sims.values())

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.sims.values())

    @property
    def prompt_tokens(self) -> int:
        return sum(s.prompt_tokens for s in self.sims.values())

    @property
    def completion_tokens(self) -> int:
        return sum(s.completion_tokens for s in self.sims.values())


def batch_spec(out: str) -> BatchSpec:
    return BatchSpec(name="method", personas="all", pairing="all_pairs", replicates=REPLICATES,
                     scenes=SCENES, beats=BEATS, seed=SEED, concurrency=91, out=out,
                     max_simulations=max(REPLICATES * 91, 91))


async def write_run(out: str) -> Path:
    logging.disable(logging.CRITICAL)
    runner = BatchRunner(batch_spec(out))
    await runner.run()
    await runner.aclose()
    return runner.run_dir


def read_figures(run_dir: Path) -> RunFigures:
    figures = RunFigures()
    for obj in RunReader(run_dir).iter_objects():
        sim_id = obj.get("sim_id")
        if not sim_id:
            continue
        kind = obj.get("type")
        sim = figures.sims.setdefault(sim_id, SimFigures())
        if kind == "call_completed":
            sim.calls += 1
            sim.prompt_tokens += obj["prompt_tokens"]
            sim.completion_tokens += obj["completion_tokens"]
            figures.calls_by_purpose[obj["purpose"]] += 1
            figures.prompt_by_purpose[obj["purpose"]] += obj["prompt_tokens"]
        elif kind == "scene_started":
            figures.categories[obj["turning_point"]["category"]] += 1
        elif kind == "scene_ended":
            sim.scenes += 1
        elif kind == "simulation_completed":
            sim.completed = True
            sim.outcome = obj.get("outcome")
            sim.ended_early = bool(obj.get("ended_early"))
        elif kind == "simulation_failed":
            sim.failed = True
    figures.sims = {k: v for k, v in figures.sims.items() if v.completed or v.failed or v.calls}
    return figures


def report(figures: RunFigures, seconds: float) -> None:
    sims = figures.sims
    n = len(sims)
    full = next(sim_id for sim_id, s in sims.items() if s.scenes == SCENES)
    one = sims[full]
    one_line = (f"one simulation ({full}, {SCENES} scenes × {BEATS} beats played): "
                f"{one.calls} chat calls = {one.calls / one.scenes:.2f} per scene, "
                f"{one.prompt_tokens / one.scenes:,.0f} prompt tokens per scene")
    source = user_source()
    people = "shipped personas" if source is None else f"personas incl. {source.directory}"
    scenes = figures.scenes
    print(f"\nmethod: {n} simulations ({people}, all pairs × {REPLICATES} replicate(s)), "
          f"{SCENES} scenes × {BEATS} beats, policy 'state', seed {SEED}, sim latency 0; "
          f"batch ran in {seconds:.1f} s")
    print(f"  {one_line}")
    print(f"  batch: {scenes} scenes played, {figures.calls:,} chat calls = "
          f"{figures.calls / scenes:.2f} per scene; prompt tokens "
          f"{figures.prompt_tokens / scenes:,.0f}"
          f" per scene ({figures.prompt_tokens / figures.calls:,.0f} per call), completion "
          f"{figures.completion_tokens / scenes:,.0f} per scene "
          "[tokens: the simulator's estimate, characters / 4; embeddings not counted]")
    print("  chat calls per scene by purpose (prompt tokens per scene):")
    for purpose, count in figures.calls_by_purpose.most_common():
        print(f"    {purpose:<20} {count / scenes:5.2f}  "
              f"({figures.prompt_by_purpose[purpose] / scenes:7,.0f})")
    outcomes = Counter(s.outcome for s in sims.values())
    separated = outcomes["separated"]
    ci = binomtest(separated, n).proportion_ci(confidence_level=0.95)
    early = sum(s.ended_early for s in sims.values())
    print(f"  outcomes: separated {separated}/{n} = {separated / n:.1%} "
          f"(95 % CI {ci.low:.1%}–{ci.high:.1%}, Clopper-Pearson), together "
          f"{outcomes['together']}; {early} ended early; mean scenes played "
          f"{scenes / n:.2f} of {SCENES}")
    print("  scenes per category:")
    for category in CATEGORIES:
        print(f"    {category:<28} {figures.categories[category]:5d}")


def _run() -> RunFigures:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with batch_gc():
            run_dir = asyncio.run(write_run(tmp))
        seconds = time.perf_counter() - start
        figures = read_figures(run_dir)
        expected = batch_spec(tmp).count_simulations()
    report(figures, seconds)
    assert len(figures.sims) == expected
    return figures


def test_method_figures() -> None:
    figures = _run()
    sims = figures.sims
    # Every simulation ends, with an outcome; none failed.
    assert all(s.completed and not s.failed for s in sims.values())
    assert {s.outcome for s in sims.values()} <= {"together", "separated"}
    assert all(1 <= s.scenes <= SCENES for s in sims.values())
    assert all(s.scenes == SCENES for s in sims.values() if not s.ended_early)
    # No faults on the simulator, hence no retries: each simulation makes exactly the calls
    # the size estimate gives for the scenes it played.
    assert all(s.calls == calls_per_simulation(s.scenes, BEATS) for s in sims.values())
    low, high = SANE_CALLS_PER_SCENE
    assert low <= figures.calls / figures.scenes <= high
    # The README's figure holds for a simulation that plays all its scenes.
    full = next(s for s in sims.values() if s.scenes == SCENES)
    assert round(full.calls / full.scenes, 1) == README_CALLS_PER_SCENE
    # The state policy reaches every category of the library.
    assert set(figures.categories) == set(CATEGORIES)
    assert sum(figures.categories.values()) == figures.scenes


if __name__ == "__main__":
    test_method_figures()
