"""A/B comparison of two runs: simulations that share personas (in order), plan and seed are
paired, and the difference B − A in final commitment (and in outcome, when both runs have one)
is estimated with a paired interval and tested, overall and by group."""

from __future__ import annotations

from typing import Any

import polars as pl

from engine.analysis.aggregate import factor_column
from engine.analysis.load import RunData
from engine.analysis.stats import bootstrap_ci, mcnemar_exact, paired_difference
from engine.errors import ConfigError

KEY = ("persona_a", "persona_b", "plan", "seed")


def pair_runs(a: RunData, b: RunData) -> pl.DataFrame:
    """One row per matched pair of completed simulations (columns suffixed ``_b`` for B)."""
    cols = ["sim_id", *KEY, "final_commitment", "pair", "attachment_pair", "model", "replicate"]
    extra = ["outcome"] if a.has_outcomes and b.has_outcomes else []

    def done(d: RunData) -> pl.DataFrame:
        return d.sims.filter(
            (pl.col("status") == "completed") & pl.col("final_commitment").is_not_null()
        ).select(cols + extra)

    # A key can repeat (same pair, plan and seed twice): keep the first of each side.
    left = done(a).unique(subset=list(KEY), keep="first", maintain_order=True)
    right = done(b).unique(subset=list(KEY), keep="first", maintain_order=True)
    return left.join(right.select(["sim_id", *KEY, "final_commitment", "model", *extra]),
                     on=list(KEY), how="inner", suffix="_b")


def _block(df: pl.DataFrame, outcomes: bool) -> dict[str, Any]:
    res = paired_difference(df["final_commitment"].to_numpy(),
                            df["final_commitment_b"].to_numpy())
    out: dict[str, Any] = {"n": df.height, "mean_a": df["final_commitment"].mean(),
                           "mean_b": df["final_commitment_b"].mean(),
                           "commitment": res.as_dict()}
    if outcomes:
        sep_a = (df["outcome"] == "separated").to_numpy()
        sep_b = (df["outcome_b"] == "separated").to_numpy()
        diff = bootstrap_ci(lambda x, y: float(y.mean() - x.mean()), sep_a.astype(float),
                            sep_b.astype(float))
        out["separated"] = {"share_a": float(sep_a.mean()), "share_b": float(sep_b.mean()),
                            "difference": diff.as_dict(),
                            "mcnemar": mcnemar_exact(sep_a, sep_b)}
    return out


def compare_runs(a: RunData, b: RunData, by: str | None = None) -> dict[str, Any]:
    pairs = pair_runs(a, b)
    if pairs.height == 0:
        raise ConfigError(
            f"no simulation of {a.name} shares personas, plan and seed with one of {b.name} "
            "(both completed): nothing to compare"
        )
    outcomes = "outcome_b" in pairs.columns
    col = factor_column(a, by) if by else None
    result: dict[str, Any] = {"run_a": a.name, "run_b": b.name,
                              "model_a": a.manifest.get("model"),
                              "model_b": b.manifest.get("model"),
                              "prompt_hash_a": a.manifest.get("prompt_hash"),
                              "prompt_hash_b": b.manifest.get("prompt_hash"),
                              "overall": _block(pairs, outcomes), "by": col, "groups": []}
    if col and col != "all":
        if col == "persona":
            long = pl.concat([pairs.with_columns(pl.col("persona_a").alias("group")),
                              pairs.with_columns(pl.col("persona_b").alias("group"))])
        else:
            key = col if col in pairs.columns else None
            if key is None:
                extra = a.sims.select("sim_id", pl.col(col).cast(pl.Utf8).alias("group"))
                long = pairs.join(extra, on="sim_id", how="left")
            else:
                long = pairs.with_columns(pl.col(key).cast(pl.Utf8).alias("group"))
        for (group,), part in sorted(long.group_by("group"), key=lambda g: str(g[0][0])):
            result["groups"].append({"group": group, **_block(part, outcomes)})
    return result
