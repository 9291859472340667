"""Aggregates of one run: commitment trajectory by group, final scores, outcomes, state markers.

Observations are independent simulations: for a grouping at the simulation level (pair,
attachment pair, model, a batch factor) a simulation's score is the mean of its two partners';
grouped by ``persona`` each partner's own score counts (a persona is one partner).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import special

from engine.analysis.load import RunData
from engine.analysis.stats import LEVEL
from engine.errors import ConfigError

ALIASES = {"attachment-pair": "attachment_pair", "attachment": "attachment_pair",
           "persona-pair": "pair", "couple": "pair", "none": "all", "all": "all"}
BUILTIN = ("all", "attachment_pair", "pair", "persona", "model")


def factor_column(data: RunData, by: str | None) -> str:
    """The column a ``--by`` name refers to; ConfigError listing the choices otherwise."""
    name = ALIASES.get((by or "all").lower(), (by or "all").replace("-", "_"))
    choices = groupings(data)
    if name not in choices:
        raise ConfigError(f"--by {by}: unknown factor; choose from {', '.join(choices)}")
    return name


def groupings(data: RunData) -> list[str]:
    out = list(BUILTIN)
    out.extend(f for f in data.factors if f in data.sims.columns and f not in out)
    return out


def t_intervals(mean: np.ndarray, std: np.ndarray, n: np.ndarray,
                level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Student-t intervals for many means at once (NaN where n < 2): mean ± t·sem with t the
    Student quantile from ``scipy.special.stdtrit`` (what ``scipy.stats.t.interval`` computes,
    without importing scipy.stats, which alone takes a second to import)."""
    n = n.astype(float)
    with np.errstate(all="ignore"):
        scale = std / np.sqrt(n)
        q = special.stdtrit(np.maximum(n - 1, 1), 0.5 + level / 2)
        low, high = mean - q * scale, mean + q * scale
    low = np.where(n >= 2, np.where(scale > 0, low, mean), np.nan)
    high = np.where(n >= 2, np.where(scale > 0, high, mean), np.nan)
    return low, high


def clopper_pearson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of k successes in n: the beta quantiles that
    ``scipy.stats.binomtest(k, n).proportion_ci()`` computes, via ``scipy.special.betaincinv``
    (importing scipy.stats takes most of a second of ``relsim analyze``)."""
    alpha = (1 - level) / 2
    low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha))
    high = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1 - alpha))
    return low, high


def _with_group(data: RunData, by: str, *, completed_only: bool) -> pl.DataFrame:
    """Per-observation scene scores with a ``group`` column (see the module doc)."""
    scenes = data.scenes
    if completed_only:
        done = data.sims.filter(pl.col("status") == "completed").select("sim_id")
        scenes = scenes.join(done, on="sim_id", how="semi")
    if scenes.height == 0:
        return pl.DataFrame(schema={"sim_id": pl.Utf8, "scene_index": pl.Int32,
                                    "group": pl.Utf8, "commitment": pl.Float64})
    if by == "persona":
        return scenes.select("sim_id", "scene_index", pl.col("persona").alias("group"),
                             pl.col("commitment").cast(pl.Float64))
    per_sim = scenes.group_by("sim_id", "scene_index").agg(pl.col("commitment").mean())
    key = pl.lit("all") if by == "all" else pl.col(by).cast(pl.Utf8)
    groups = data.sims.select("sim_id", key.alias("group"))
    return per_sim.join(groups, on="sim_id", how="left")


def _summarise(df: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    out = df.group_by(keys).agg(
        pl.col("commitment").mean().alias("mean"),
        pl.col("commitment").std().alias("std"),
        pl.len().alias("n"),
    ).sort(keys)
    low, high = t_intervals(out["mean"].to_numpy(), out["std"].fill_null(0).to_numpy(),
                            out["n"].to_numpy())
    return out.with_columns(pl.Series("low", low), pl.Series("high", high)).drop("std")


def trajectory(data: RunData, by: str = "all") -> pl.DataFrame:
    """group, scene_index, mean, n, low, high: mean commitment after each scene (every
    simulation that reached the scene, running ones included)."""
    return _summarise(_with_group(data, by, completed_only=False), ["group", "scene_index"])


def final_scores(data: RunData, by: str = "all") -> pl.DataFrame:
    """Each completed observation's final commitment (its last scene's score), with group."""
    df = _with_group(data, by, completed_only=True)
    if df.height == 0:
        return df
    # Grouped by persona a simulation has two rows (one per partner), as wanted.
    return df.sort("scene_index").group_by("sim_id", "group").agg(pl.col("commitment").last())


def final_summary(data: RunData, by: str = "all") -> pl.DataFrame:
    """group, mean, n, low, high of the final commitment of completed simulations."""
    return _summarise(final_scores(data, by), ["group"])


def histogram(data: RunData, by: str = "all") -> pl.DataFrame:
    """Counts of final commitment in 21 bins of 0.5 (a simulation's score is the mean of two
    integer scores, so it falls on a half step)."""
    df = final_scores(data, "all" if by == "persona" else by)
    if by == "persona":
        df = _final_by_partner(data)
    bins = pl.DataFrame({"bin": [i / 2 for i in range(21)]})
    if df.height == 0:
        return bins.with_columns(pl.lit(0, pl.UInt32).alias("count"))
    binned = df.select(((pl.col("commitment") * 2).round(0) / 2).alias("bin"))
    counts = binned.group_by("bin").agg(pl.len().alias("count"))
    return bins.join(counts, on="bin", how="left").fill_null(0)


def _final_by_partner(data: RunData) -> pl.DataFrame:
    done = data.sims.filter(pl.col("status") == "completed").select("sim_id")
    scenes = data.scenes.join(done, on="sim_id", how="semi")
    if scenes.height == 0:
        return pl.DataFrame(schema={"persona": pl.Utf8, "partner": pl.Utf8,
                                    "commitment": pl.Float64})
    return scenes.sort("scene_index").group_by("sim_id", "agent").agg(
        pl.col("persona").last(), pl.col("partner").last(),
        pl.col("commitment").last().cast(pl.Float64))


def heatmap(data: RunData) -> tuple[list[str], np.ndarray, str]:
    """(personas, matrix, what): the share separated per persona × partner when the run has
    outcomes, otherwise the mean final commitment of the row persona with the column partner.
    Cells without simulations are NaN."""
    if data.has_outcomes and data.sims["outcome"].drop_nulls().len():
        done = data.sims.filter(pl.col("outcome").is_not_null())
        sep = (pl.col("outcome") == "separated").cast(pl.Float64)
        both = pl.concat([
            done.select(pl.col("persona_a").alias("r"), pl.col("persona_b").alias("c"), sep),
            done.select(pl.col("persona_b").alias("r"), pl.col("persona_a").alias("c"), sep),
        ])
        cells = both.group_by("r", "c").agg(pl.col("outcome").mean().alias("v"))
        what = "share separated"
    else:
        finals = _final_by_partner(data)
        cells = finals.group_by(pl.col("persona").alias("r"), pl.col("partner").alias("c")).agg(
            pl.col("commitment").mean().alias("v"))
        what = "mean final commitment"
    personas = sorted(set(data.sims["persona_a"].to_list()) | set(data.sims["persona_b"].to_list())
                      ) if data.sims.height else []
    index = {p: i for i, p in enumerate(personas)}
    matrix = np.full((len(personas), len(personas)), np.nan)
    for r, c, v in cells.iter_rows():
        if r in index and c in index and v is not None:
            matrix[index[r], index[c]] = v
    return personas, matrix, what


def outcome_summary(data: RunData, by: str = "all") -> pl.DataFrame | None:
    """group, n, separated, share, low, high (Clopper-Pearson, ``binomtest``); None without
    outcomes in the run."""
    if not data.has_outcomes:
        return None
    sims = data.sims.filter(pl.col("outcome").is_not_null())
    if by == "persona":
        sims = pl.concat([sims.with_columns(pl.col("persona_a").alias("group")),
                          sims.with_columns(pl.col("persona_b").alias("group"))])
    else:
        sims = sims.with_columns((pl.lit("all") if by == "all" else pl.col(by).cast(pl.Utf8))
                                 .alias("group"))
    out = sims.group_by("group").agg(pl.len().alias("n"),
                                     (pl.col("outcome") == "separated").sum().alias("separated"))
    rows = []
    for group, n, k in out.sort("group").iter_rows():
        low, high = clopper_pearson(int(k), int(n))
        rows.append({"group": group, "n": n, "separated": k, "share": k / n,
                     "low": low, "high": high})
    return pl.DataFrame(rows) if rows else None


def marker_frequencies(data: RunData) -> pl.DataFrame | None:
    """variable, value, scenes, share of inferred scene states with that value, and the number
    of simulations that showed it at least once; None when the run has no state inference."""
    if not data.has_states:
        return None
    total = data.states.select(pl.struct("sim_id", "scene_index").n_unique()).item()
    return data.states.group_by("variable", "value").agg(
        pl.len().alias("scenes"), pl.col("sim_id").n_unique().alias("simulations"),
    ).with_columns((pl.col("scenes") / total).alias("share")).sort("variable", "value")


@dataclass
class Aggregates:
    by: str
    trajectory: pl.DataFrame
    finals: pl.DataFrame
    histogram: pl.DataFrame
    outcomes: pl.DataFrame | None
    markers: pl.DataFrame | None

    def as_dict(self) -> dict[str, Any]:
        def rows(df: pl.DataFrame | None) -> list[dict[str, Any]] | None:
            if df is None:
                return None
            return [{k: _clean(v) for k, v in r.items()} for r in df.to_dicts()]

        return {"by": self.by, "trajectory": rows(self.trajectory), "final": rows(self.finals),
                "histogram": rows(self.histogram), "outcomes": rows(self.outcomes),
                "markers": rows(self.markers)}


def _clean(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def aggregate(data: RunData, by: str | None = None) -> Aggregates:
    col = factor_column(data, by)
    return Aggregates(
        by=col, trajectory=trajectory(data, col), finals=final_summary(data, col),
        histogram=histogram(data, col), outcomes=outcome_summary(data, col),
        markers=marker_frequencies(data),
    )
