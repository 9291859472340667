"""Prediction of observed outcomes: the simulation against a personas-only baseline.

Per couple (an unordered persona pair) the simulation's score is the share of its completed
simulations that ended ``together`` when the run records outcomes, otherwise its mean final
commitment / 10; it predicts ``together`` at a score ≥ 0.5. The baseline's score is its
``probability_together``. Metrics (each with a paired BCa bootstrap interval over couples):
accuracy, balanced accuracy, ROC AUC, and separation = mean commitment of couples who stayed
together − of those who separated (0–10 scale; the baseline's own commitment estimate).
Significance of the difference in correctness: McNemar's exact test.
"""

from __future__ import annotations

import asyncio
import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine.analysis.load import RunData
from engine.analysis.stats import auc, bootstrap_ci, mcnemar_exact
from engine.errors import ConfigError

OUTCOMES = ("together", "separated")


@dataclass(frozen=True)
class Observed:
    couple: tuple[str, str]  # sorted persona ids
    outcome: str
    followup: str | None


def couple_key(a: str, b: str) -> tuple[str, str]:
    x, y = sorted((a.strip().lower(), b.strip().lower()))
    return (x, y)


def read_outcomes(path: str | Path) -> list[Observed]:
    """Rows of an outcomes CSV (lines starting with ``#`` are comments). Columns: ``couple_id``
    (two persona ids joined by ``+``) or ``persona_a`` and ``persona_b``; ``outcome``
    (together/separated); optional ``followup`` (free text, e.g. months)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read outcomes file: {exc}") from None
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(lines)
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if "outcome" not in fields or not ({"couple_id"} <= fields or
                                       {"persona_a", "persona_b"} <= fields):
        raise ConfigError(f"{path}: needs columns outcome and couple_id (or persona_a and "
                          f"persona_b); found {', '.join(sorted(fields)) or 'none'}")
    out: list[Observed] = []
    seen: set[tuple[str, str]] = set()
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        outcome = row.get("outcome", "").lower()
        if outcome not in OUTCOMES:
            raise ConfigError(f"{path}: data row {number - 1}: outcome must be together or "
                              f"separated, got {outcome!r}")
        if row.get("couple_id"):
            parts = row["couple_id"].split("+")
            if len(parts) != 2:
                raise ConfigError(f"{path}: data row {number - 1}: couple_id must be "
                                  f"'persona-a+persona-b', got {row['couple_id']!r}")
            key = couple_key(*parts)
        elif row.get("persona_a") and row.get("persona_b"):
            key = couple_key(row["persona_a"], row["persona_b"])
        else:
            raise ConfigError(f"{path}: data row {number - 1}: no couple given")
        if key in seen:
            raise ConfigError(f"{path}: couple {'+'.join(key)} appears twice")
        seen.add(key)
        out.append(Observed(key, outcome, row.get("followup") or None))
    if not out:
        raise ConfigError(f"{path}: no outcome rows")
    return out


def simulation_scores(data: RunData) -> pl.DataFrame:
    """couple, n, commitment (mean final), score (see the module doc) per couple."""
    sims = data.sims.filter((pl.col("status") == "completed")
                            & pl.col("final_commitment").is_not_null())
    if sims.height == 0:
        return pl.DataFrame(schema={"couple": pl.Utf8, "n": pl.UInt32,
                                    "commitment": pl.Float64, "score": pl.Float64})
    sims = sims.with_columns(pl.concat_str(
        pl.min_horizontal("persona_a", "persona_b"), pl.lit("+"),
        pl.max_horizontal("persona_a", "persona_b")).str.to_lowercase().alias("couple"))
    aggs = [pl.len().alias("n"), pl.col("final_commitment").mean().alias("commitment")]
    if data.has_outcomes and sims["outcome"].drop_nulls().len():
        aggs.append((pl.col("outcome") == "together").mean().alias("score"))
    else:
        aggs.append((pl.col("final_commitment").mean() / 10).alias("score"))
    return sims.group_by("couple").agg(aggs).sort("couple")


def metrics(labels: np.ndarray, score: np.ndarray, commitment: np.ndarray) -> dict[str, Any]:
    """Each metric with its bootstrap interval; labels are 1 = together."""
    y = labels.astype(float)
    pred = (score >= 0.5).astype(float)

    def accuracy(yy: np.ndarray, pp: np.ndarray) -> float:
        return float(np.mean(yy == pp))

    def balanced(yy: np.ndarray, pp: np.ndarray) -> float:
        pos, neg = yy == 1, yy == 0
        if not pos.any() or not neg.any():
            return math.nan
        return float((np.mean(pp[pos] == 1) + np.mean(pp[neg] == 0)) / 2)

    def area(yy: np.ndarray, ss: np.ndarray) -> float:
        return auc(yy.astype(int), ss)

    def separation(yy: np.ndarray, cc: np.ndarray) -> float:
        pos, neg = yy == 1, yy == 0
        if not pos.any() or not neg.any():
            return math.nan
        return float(cc[pos].mean() - cc[neg].mean())

    return {
        "accuracy": bootstrap_ci(accuracy, y, pred).as_dict(),
        "balanced_accuracy": bootstrap_ci(balanced, y, pred).as_dict(),
        "auc": bootstrap_ci(area, y, score).as_dict(),
        "separation": bootstrap_ci(separation, y, commitment).as_dict(),
    }


async def baseline_guesses(data: RunData, couples: list[tuple[str, str]],
                           concurrency: int = 8) -> dict[tuple[str, str], dict[str, Any]]:
    """One personas-only call per couple, on the run's model (its simulator options too)."""
    from engine.llm.registry import resolve_model
    from engine.sim.baseline import predict_from_personas
    from engine.sim.personas import load_persona
    from engine.sim.sources import persona_file

    spec = data.manifest.get("spec") or {}
    model = str(data.manifest.get("model") or spec.get("model") or "sim")
    provider = resolve_model(model, base_url=spec.get("base_url"), sim=spec.get("sim") or None)
    paths: dict[str, str] = {}
    for info in data.manifest["sims"].values():
        for key in ("persona_a", "persona_b"):
            paths.setdefault(Path(info[key]).stem.lower(), str(info[key]))

    def profile(pid: str) -> dict[str, Any]:
        for candidate in (Path(paths.get(pid, "")), persona_file(pid) or Path("")):
            if candidate.is_file():
                return load_persona(candidate).profile()
        raise ConfigError(f"persona {pid}: its file is not found (needed for the baseline)")

    gate = asyncio.Semaphore(concurrency)

    async def one(couple: tuple[str, str]) -> tuple[tuple[str, str], dict[str, Any]]:
        async with gate:
            guess = await predict_from_personas(provider, profile(couple[0]),
                                                profile(couple[1]))
        return couple, guess.model_dump()

    try:
        return dict(await asyncio.gather(*(one(c) for c in couples)))
    finally:
        close = getattr(provider, "aclose", None)
        if close is not None and spec.get("sim"):
            await close()  # an unshared provider (simulator options) is ours to close


def evaluate(data: RunData, observed: list[Observed], *, baseline: bool = True
             ) -> dict[str, Any]:
    scores = simulation_scores(data)
    by_couple = {row["couple"]: row for row in scores.iter_rows(named=True)}
    joined = [(o, by_couple["+".join(o.couple)]) for o in observed
              if "+".join(o.couple) in by_couple]
    missing = [("+".join(o.couple)) for o in observed if "+".join(o.couple) not in by_couple]
    if not joined:
        raise ConfigError(
            f"no couple of the outcomes file has a completed simulation in {data.name}"
        )
    y = np.array([o.outcome == "together" for o, _ in joined], dtype=int)
    sim_score = np.array([r["score"] for _, r in joined], dtype=float)
    sim_commit = np.array([r["commitment"] for _, r in joined], dtype=float)
    result: dict[str, Any] = {
        "run": data.name, "model": data.manifest.get("model"), "couples": len(joined),
        "together": int(y.sum()), "separated": int(len(y) - y.sum()),
        "unmatched": missing,
        "score_source": "share together" if data.has_outcomes else "final commitment / 10",
        "simulation": metrics(y, sim_score, sim_commit),
        "couple_rows": [
            {"couple": "+".join(o.couple), "observed": o.outcome, "followup": o.followup,
             "simulations": r["n"], "sim_commitment": r["commitment"], "sim_score": r["score"]}
            for o, r in joined
        ],
    }
    if baseline:
        from engine._sync import run_sync

        guesses = run_sync(baseline_guesses(data, [o.couple for o, _ in joined]),
                           "baseline_guesses")
        b_score = np.array([guesses[o.couple]["probability_together"] for o, _ in joined])
        b_commit = np.array([guesses[o.couple]["commitment"] for o, _ in joined], dtype=float)
        result["baseline"] = metrics(y, b_score, b_commit)
        sim_right = (sim_score >= 0.5).astype(int) == y
        base_right = (b_score >= 0.5).astype(int) == y
        diff = bootstrap_ci(lambda s, b: float(s.mean() - b.mean()), sim_right.astype(float),
                            base_right.astype(float))
        result["paired"] = {"accuracy_difference": diff.as_dict(),
                            "mcnemar": mcnemar_exact(base_right, sim_right)}
        for row, (o, _) in zip(result["couple_rows"], joined, strict=True):
            g = guesses[o.couple]
            row["baseline_probability"] = g["probability_together"]
            row["baseline_commitment"] = g["commitment"]
    return result
