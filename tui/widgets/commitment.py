"""The commitment panel: the batch's mean trajectory per scene (with spread) and the
distribution of latest scores, as text."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from engine.batch.state import SimRow
from engine.present.format import bar, mean_spread


def commitment_text(rows: Iterable[SimRow], max_scenes: int = 12, *,
                    filtered: bool = False) -> Text:
    """Over ``rows`` (the table's filtered rows: aggregates follow the filter)."""
    per_scene: dict[int, list[float]] = {}
    latest: Counter[int] = Counter()
    n_rows = 0
    for row in rows:
        n_rows += 1
        for scores in row.trajectory.values():
            for i, s in enumerate(scores):
                per_scene.setdefault(i, []).append(s)
            if scores:
                latest[scores[-1]] += 1
    text = Text()
    text.append("mean commitment per scene (± sd)\n", style="bold")
    if filtered:
        text.append(f"  filtered: {n_rows} simulation(s)\n", style="italic yellow")
    if not per_scene:
        text.append("  no scores yet\n", style="dim")
    scenes = sorted(per_scene)[-max_scenes:]
    for i in scenes:
        mean, sd = mean_spread(per_scene[i])
        text.append(f"  {i + 1:>2} ")
        text.append(bar(mean / 10, 10), style="cyan")
        text.append(f" {mean:4.1f} ±{sd:3.1f}" if not math.isnan(mean) else "  --")
        text.append(f"  n={len(per_scene[i])}\n", style="dim")
    text.append("latest scores\n", style="bold")
    peak = max(latest.values(), default=0)
    for score in range(10, -1, -1):
        n = latest[score]
        text.append(f"  {score:>2} ")
        text.append(bar(n / peak if peak else 0, 12), style="magenta")
        text.append(f" {n}\n" if n else "\n", style="dim")
    return text


class CommitmentPanel(Static):
    """Refreshed by the screen at ~1 Hz (it folds over every row)."""
