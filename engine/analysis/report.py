"""One self-contained HTML report of a run: facts, aggregate charts (inline SVG), the table of
simulations with each one's trajectory and after-action report. No script, no network."""

from __future__ import annotations

import datetime as dt
import math
from html import escape
from typing import Any

import polars as pl

from engine.analysis import svg
from engine.analysis.aggregate import aggregate, heatmap
from engine.analysis.load import RunData
from engine.analysis.output import ci, fmt

CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f6f6f6}.num{text-align:right}
.note{color:#666;font-size:12px}details{margin:2px 0}summary{cursor:pointer}
.charts{display:flex;flex-wrap:wrap;gap:16px}"""

GROUPINGS = ("all", "attachment_pair")


def _trajectory_chart(data: RunData, by: str) -> str:
    agg = aggregate(data, by)
    series: dict[str, list[tuple[int, float, float, float]]] = {}
    for r in agg.trajectory.iter_rows(named=True):
        low = math.nan if r["low"] is None else r["low"]
        high = math.nan if r["high"] is None else r["high"]
        series.setdefault(str(r["group"]), []).append((r["scene_index"] + 1, r["mean"], low,
                                                       high))
    return svg.line_chart(f"mean commitment by scene, by {by}", series)


def _facts(data: RunData) -> str:
    m = data.manifest
    spec = m.get("spec") or {}
    created = m.get("created")
    rows = [("run", data.name), ("model", f"{m.get('model')} ({m.get('model_label', '')})"),
            ("endpoint", m.get("endpoint") or "–"), ("status", m.get("status")),
            ("created", dt.datetime.fromtimestamp(created, dt.UTC).isoformat(timespec="seconds")
             if isinstance(created, int | float) else "–"),
            ("relsim version", m.get("relsim_version")), ("prompt hash", m.get("prompt_hash")),
            ("batch seed", m.get("seed")), ("simulations", data.sims.height),
            ("counts", ", ".join(f"{k} {v}" for k, v in (m.get("counts") or {}).items()))]
    rows += [(f"spec: {k}", v) for k, v in spec.items() if k not in ("out",)]
    return "<table>" + "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                               for k, v in rows) + "</table>"


def _report_block(report: dict[str, Any]) -> str:
    parts = [f"<p><b>Trajectory.</b> {escape(str(report.get('trajectory', '')))}</p>"]
    prob = report.get("probability")
    parts.append(f"<p><b>Predicted:</b> {escape(str(report.get('predicted_outcome')))}"
                 f" (p = {fmt(prob)})" + (" — fallback" if report.get("fallback") else "")
                 + "</p>")
    scenes = report.get("key_scenes") or []
    if scenes:
        parts.append("<ul>" + "".join(
            f"<li>scene {int(s.get('scene_index', 0)) + 1} ({fmt(s.get('change'))}): "
            f"{escape(str(s.get('why', '')))}</li>" for s in scenes) + "</ul>")
    for key, label in (("risk_markers", "Risk markers"), ("strength_markers", "Strengths")):
        items = report.get(key) or []
        if items:
            parts.append(f"<p><b>{label}:</b> {escape('; '.join(map(str, items)))}</p>")
    return "".join(parts)


def _sim_table(data: RunData) -> str:
    traj: dict[str, dict[str, list[int]]] = {}
    if data.scenes.height:
        grouped = data.scenes.sort("scene_index").group_by("sim_id", "role", maintain_order=True
                                                           ).agg(pl.col("commitment"))
        for sid, role, scores in grouped.iter_rows():
            traj.setdefault(sid, {})[role] = list(scores)
    cols = ["sim", "pair", "attachment", "status", "replicate", "final A", "final B",
            "trajectory"]
    if data.has_outcomes:
        cols.append("outcome")
    head = "".join(f"<th>{c}</th>" for c in cols)
    rows = []
    for r in data.sims.iter_rows(named=True):
        t = traj.get(r["sim_id"], {})
        a, b = t.get("A", []), t.get("B", [])
        detail = ("<details><summary>" + svg.sparkline([a, b]) + "</summary><table><tr><th>"
                  "scene</th>" + "".join(f"<td>{i + 1}</td>" for i in range(max(len(a), len(b))))
                  + f"</tr><tr><th>{escape(r['name_a'])}</th>"
                  + "".join(f"<td>{v}</td>" for v in a)
                  + f"</tr><tr><th>{escape(r['name_b'])}</th>"
                  + "".join(f"<td>{v}</td>" for v in b) + "</tr></table>")
        report = data.reports.get(r["sim_id"])
        if report:
            detail += _report_block(report)
        detail += "</details>"
        cells = [r["sim_id"], f"{r['name_a']} × {r['name_b']}", r["attachment_pair"],
                 r["status"], r["replicate"], fmt(r["final_a"]), fmt(r["final_b"])]
        row = "".join(f"<td>{escape(str(c))}</td>" for c in cells) + f"<td>{detail}</td>"
        if data.has_outcomes:
            row += f"<td>{escape(str(r.get('outcome') or '–'))}</td>"
        rows.append(f"<tr>{row}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render_report(data: RunData) -> str:
    agg = aggregate(data, "attachment_pair")
    charts = [_trajectory_chart(data, by) for by in GROUPINGS]
    hist = svg.bar_chart("final commitment distribution",
                         [f"{b:g}" for b in agg.histogram["bin"].to_list()],
                         [float(c) for c in agg.histogram["count"].to_list()])
    personas, matrix, what = heatmap(data)
    heat = svg.heatmap(f"persona × partner: {what}", personas, matrix.tolist(),
                       1.0 if what == "share separated" else 10.0)
    final_rows = "".join(
        f"<tr><td>{escape(str(r['group']))}</td><td class=num>{r['n']}</td>"
        f"<td class=num>{fmt(r['mean'])}</td><td class=num>{ci(r['low'], r['high'])}</td></tr>"
        for r in agg.finals.iter_rows(named=True))
    body = [f"<h1>relsim report: {escape(data.name)}</h1>",
            "<h2>Settings and manifest</h2>", _facts(data),
            "<h2>Commitment trajectory</h2><p class=note>Mean commitment after each scene; the "
            "band is the 95% Student-t confidence interval of the mean (one observation per "
            "simulation: the mean of both partners).</p>",
            f"<div class=charts>{''.join(charts)}</div>",
            "<h2>Final commitment</h2><p class=note>Completed simulations; 95% t interval."
            "</p>", f"<table><tr><th>attachment pair</th><th>n</th><th>mean</th><th>95% CI</th>"
            f"</tr>{final_rows}</table>", f"<div class=charts>{hist}</div>",
            f"<h2>Persona × partner</h2><p class=note>{escape(what)} (row persona with column "
            "partner; grey: no simulation).</p>", heat]
    if agg.outcomes is not None:
        body += ["<h2>Outcomes</h2><p class=note>Share separated by attachment pair; 95% "
                 "Clopper-Pearson interval in the tooltip table below.</p>",
                 svg.bar_chart("share separated", [str(g) for g in agg.outcomes["group"]],
                               agg.outcomes["share"].to_list(), y_max=1.0)]
    if agg.markers is not None:
        labels = [f"{v}={x}" for v, x in agg.markers.select("variable", "value").iter_rows()]
        body += ["<h2>State markers</h2><p class=note>Share of inferred scene states with "
                 "each value.</p>",
                 svg.bar_chart("state markers", labels, agg.markers["share"].to_list(),
                               y_max=1.0, colour=svg.PALETTE[3])]
    body += ["<h2>Simulations</h2><p class=note>Open a row's trajectory for its scores"
             + (" and after-action report" if data.reports else "") + ".</p>",
             _sim_table(data)]
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>relsim report "
            f"{escape(data.name)}</title><style>{CSS}</style></head><body>"
            + "".join(body) + "</body></html>\n")
