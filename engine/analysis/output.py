"""Writing aggregates and comparisons as a terminal table, CSV or JSON."""

from __future__ import annotations

import csv
import math
from typing import IO, Any

import orjson

from engine.analysis.aggregate import Aggregates
from engine.analysis.load import RunData


def fmt(x: Any, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def ci(low: Any, high: Any, digits: int = 2) -> str:
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)):
        return "–"
    return f"[{fmt(low, digits)}, {fmt(high, digits)}]"


def long_rows(agg: Aggregates) -> list[dict[str, Any]]:
    """Every aggregate as rows of one shape (for CSV)."""
    rows: list[dict[str, Any]] = []
    for r in agg.trajectory.iter_rows(named=True):
        rows.append({"section": "trajectory", "group": r["group"], "scene": r["scene_index"] + 1,
                     "value": r["mean"], "n": r["n"], "low": r["low"], "high": r["high"]})
    for r in agg.finals.iter_rows(named=True):
        rows.append({"section": "final", "group": r["group"], "scene": "", "value": r["mean"],
                     "n": r["n"], "low": r["low"], "high": r["high"]})
    for r in agg.histogram.iter_rows(named=True):
        rows.append({"section": "histogram", "group": r["bin"], "scene": "", "value": "",
                     "n": r["count"], "low": "", "high": ""})
    if agg.outcomes is not None:
        for r in agg.outcomes.iter_rows(named=True):
            rows.append({"section": "separated", "group": r["group"], "scene": "",
                         "value": r["share"], "n": r["n"], "low": r["low"], "high": r["high"]})
    if agg.markers is not None:
        for r in agg.markers.iter_rows(named=True):
            rows.append({"section": "marker", "group": f"{r['variable']}={r['value']}",
                         "scene": "", "value": r["share"], "n": r["scenes"], "low": "",
                         "high": ""})
    return [{k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in rows]


def write_aggregates(out: IO[str], data: RunData, agg: Aggregates, form: str) -> None:
    if form == "json":
        payload = {"run": data.name, "model": data.manifest.get("model"),
                   "simulations": data.sims.height, **agg.as_dict()}
        out.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
                  .decode() + "\n")
        return
    if form == "csv":
        writer = csv.DictWriter(out, fieldnames=["section", "group", "scene", "value", "n",
                                                 "low", "high"])
        writer.writeheader()
        writer.writerows(long_rows(agg))
        return
    print_tables(out, data, agg)


def print_tables(out: IO[str], data: RunData, agg: Aggregates) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, width=max(100, Console().width))
    done = data.sims.filter(data.sims["status"] == "completed").height if data.sims.height else 0
    console.print(f"run {data.name}: {data.sims.height} simulations ({done} completed), "
                  f"model {data.manifest.get('model')}, grouped by {agg.by}", markup=False)
    traj = Table(title="Mean commitment after each scene (95% t interval)")
    scenes = sorted(set(agg.trajectory["scene_index"].to_list()))
    traj.add_column("group")
    for s in scenes:
        traj.add_column(f"sc{s + 1}", justify="right")
    cells: dict[tuple[str, int], str] = {}
    for r in agg.trajectory.iter_rows(named=True):
        cells[(r["group"], r["scene_index"])] = f"{fmt(r['mean'])} {ci(r['low'], r['high'], 1)}"
    for group in sorted({g for g, _ in cells}):
        traj.add_row(group, *[cells.get((group, s), "") for s in scenes])
    console.print(traj)
    final = Table(title="Final commitment of completed simulations (95% t interval)")
    for name in ("group", "n", "mean", "95% CI"):
        final.add_column(name, justify="left" if name == "group" else "right")
    for r in agg.finals.iter_rows(named=True):
        final.add_row(str(r["group"]), str(r["n"]), fmt(r["mean"]), ci(r["low"], r["high"]))
    console.print(final)
    peak = max(agg.histogram["count"].to_list() or [0]) or 1
    hist = Table(title="Distribution of final commitment")
    hist.add_column("score", justify="right")
    hist.add_column("count", justify="right")
    hist.add_column("")
    for b, c in agg.histogram.iter_rows():
        hist.add_row(f"{b:g}", str(c), "█" * round(30 * c / peak))
    console.print(hist)
    if agg.outcomes is not None:
        t = Table(title="Share separated (95% Clopper-Pearson interval)")
        for name in ("group", "n", "separated", "share", "95% CI"):
            t.add_column(name)
        for r in agg.outcomes.iter_rows(named=True):
            t.add_row(str(r["group"]), str(r["n"]), str(r["separated"]), fmt(r["share"]),
                      ci(r["low"], r["high"]))
        console.print(t)
    if agg.markers is not None:
        t = Table(title="State markers (share of inferred scene states)")
        for name in ("variable", "value", "scenes", "simulations", "share"):
            t.add_column(name)
        for r in agg.markers.iter_rows(named=True):
            t.add_row(r["variable"], r["value"], str(r["scenes"]), str(r["simulations"]),
                      fmt(r["share"]))
        console.print(t)


def print_comparison(out: IO[str], result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, width=max(100, Console().width))
    console.print(f"A = {result['run_a']} ({result['model_a']}), "
                  f"B = {result['run_b']} ({result['model_b']}); difference is B − A",
                  markup=False)
    if result.get("prompt_hash_a") != result.get("prompt_hash_b"):
        console.print("note: the runs used different prompt templates", markup=False)
    table = Table(title="Final commitment, paired (95% t interval of the mean difference)")
    cols = ["group", "pairs", "mean A", "mean B", "B − A", "95% CI", "t-test p", "Wilcoxon p"]
    has_out = "separated" in result["overall"]
    if has_out:
        cols += ["sep. A", "sep. B", "Δ sep. [95% bootstrap]", "McNemar p"]
    for c in cols:
        table.add_column(c, justify="left" if c == "group" else "right")
    for name, block in [("overall", result["overall"])] + [
            (str(g["group"]), g) for g in result["groups"]]:
        d = block["commitment"]["difference"]
        row = [name, str(block["n"]), fmt(block["mean_a"]), fmt(block["mean_b"]),
               fmt(d["value"]), ci(d["low"], d["high"]),
               fmt(block["commitment"]["t_test_p"], 4),
               fmt(block["commitment"]["wilcoxon_p"], 4)]
        if has_out:
            s = block["separated"]
            row += [fmt(s["share_a"]), fmt(s["share_b"]),
                    f"{fmt(s['difference']['value'])} "
                    f"{ci(s['difference']['low'], s['difference']['high'])}",
                    fmt(s["mcnemar"]["p"], 4)]
        table.add_row(*row)
    console.print(table)
