"""Small inline-SVG charts for the HTML report: lines with confidence bands, bars, a heatmap.
Plain SVG markup (no script, no external resources); every label is XML-escaped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2", "#7f7f7f", "#bcbd22")
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 300, 44, 170, 14, 36


def _frame(title: str, width: int = W, height: int = H) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(title)}"><rect width="100%" height="100%" fill="#fff"/>']


def _axes(parts: list[str], x0: float, x1: float, y0: float, y1: float,
          y_ticks: Sequence[float], y_of: object) -> None:
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#444"/>')
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#444"/>')
    for t in y_ticks:
        y = y_of(t)  # type: ignore[operator]
        parts.append(f'<line x1="{x0 - 4}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" '
                     f'stroke="#eee"/><text x="{x0 - 6}" y="{y + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{t:g}</text>')


def line_chart(title: str, series: dict[str, list[tuple[int, float, float, float]]],
               y_max: float = 10.0, x_label: str = "scene") -> str:
    """``series``: name -> [(x, mean, low, high)], drawn as a line over a shaded band."""
    parts = _frame(title)
    xs = sorted({p[0] for pts in series.values() for p in pts}) or [1]
    x0, x1, y0, y1 = PAD_L, W - PAD_R, PAD_T, H - PAD_B
    span = max(xs[-1] - xs[0], 1)

    def x_of(x: float) -> float:
        return x0 + (x - xs[0]) / span * (x1 - x0) if len(xs) > 1 else (x0 + x1) / 2

    def y_of(v: float) -> float:
        return y1 - v / y_max * (y1 - y0)

    _axes(parts, x0, x1, y0, y1, [0, 2.5, 5, 7.5, 10], y_of)
    for x in xs:
        parts.append(f'<text x="{x_of(x):.1f}" y="{y1 + 14}" font-size="11" '
                     f'text-anchor="middle">{x}</text>')
    parts.append(f'<text x="{(x0 + x1) / 2}" y="{H - 4}" font-size="11" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    for i, (name, pts) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        band = [(x, lo, hi) for x, _, lo, hi in pts if not (math.isnan(lo) or math.isnan(hi))]
        if len(band) >= 2:
            upper = " ".join(f"{x_of(x):.1f},{y_of(hi):.1f}" for x, _, hi in band)
            lower = " ".join(f"{x_of(x):.1f},{y_of(lo):.1f}" for x, lo, _ in reversed(band))
            parts.append(f'<polygon points="{upper} {lower}" fill="{colour}" '
                         f'fill-opacity="0.15" stroke="none"/>')
        line = " ".join(f"{x_of(x):.1f},{y_of(m):.1f}" for x, m, _, _ in pts)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"/>')
        for x, m, _, _ in pts:
            parts.append(f'<circle cx="{x_of(x):.1f}" cy="{y_of(m):.1f}" r="2.5" '
                         f'fill="{colour}"/>')
        if i < 16:
            ly = y0 + 6 + i * 16
            parts.append(f'<rect x="{x1 + 10}" y="{ly - 8}" width="10" height="10" '
                         f'fill="{colour}"/><text x="{x1 + 24}" y="{ly + 1}" font-size="11">'
                         f'{escape(name[:24])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float],
              y_max: float | None = None, colour: str = PALETTE[0]) -> str:
    parts = _frame(title)
    x0, x1, y0, y1 = PAD_L, W - 20, PAD_T, H - PAD_B - 30
    top = y_max or max([*values, 1e-9])

    def y_of(v: float) -> float:
        return y1 - v / top * (y1 - y0)

    _axes(parts, x0, x1, y0, y1, [top * k / 4 for k in range(5)], y_of)
    n = max(len(values), 1)
    step = (x1 - x0) / n
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        x = x0 + i * step + step * 0.1
        parts.append(f'<rect x="{x:.1f}" y="{y_of(v):.1f}" width="{step * 0.8:.1f}" '
                     f'height="{max(y1 - y_of(v), 0):.1f}" fill="{colour}">'
                     f'<title>{escape(label)}: {v:g}</title></rect>')
        parts.append(f'<text x="{x + step * 0.4:.1f}" y="{y1 + 12}" font-size="10" '
                     f'text-anchor="end" transform="rotate(-40 {x + step * 0.4:.1f} '
                     f'{y1 + 12})">{escape(label[:18])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heatmap(title: str, labels: Sequence[str], matrix: Sequence[Sequence[float]],
            v_max: float) -> str:
    n = len(labels)
    cell = max(14, min(36, 420 // max(n, 1)))
    left, top = 130, 14
    width, height = left + n * cell + 20, top + n * cell + 120
    parts = _frame(title, width, height)
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            x, y = left + j * cell, top + i * cell
            if math.isnan(v):
                fill = "#f4f4f4"
            else:
                k = max(0.0, min(1.0, v / v_max))
                fill = f"rgb({int(255 - 200 * k)},{int(255 - 120 * k)},{int(255 - 40 * k)})"
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                         f'fill="{fill}"><title>{escape(labels[i])} × {escape(labels[j])}: '
                         f'{"–" if math.isnan(v) else f"{v:.2f}"}</title></rect>')
    for i, label in enumerate(labels):
        parts.append(f'<text x="{left - 4}" y="{top + i * cell + cell * 0.65:.1f}" '
                     f'font-size="10" text-anchor="end">{escape(label[:20])}</text>')
        cx, cy = left + i * cell + cell / 2, top + n * cell + 6
        parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" font-size="10" text-anchor="end" '
                     f'transform="rotate(-60 {cx:.1f} {cy:.1f})">{escape(label[:20])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: Sequence[Sequence[float]], y_max: float = 10.0) -> str:
    """A tiny per-simulation trajectory: one polyline per partner."""
    w, h = 120, 28
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}">']
    for i, vals in enumerate(values):
        if not vals:
            continue
        step = (w - 4) / max(len(vals) - 1, 1)
        pts = " ".join(f"{2 + k * step:.1f},{h - 2 - v / y_max * (h - 4):.1f}"
                       for k, v in enumerate(vals))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{PALETTE[i]}" '
                     f'stroke-width="1.5"/>')
    parts.append("</svg>")
    return "".join(parts)
