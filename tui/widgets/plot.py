"""A small text plot of both partners' commitment trajectories (0–10 per scene)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

COLOURS = ("cyan", "magenta")
MARKS = ("●", "◆")


def trajectory_plot(
    trajectory: dict[str, list[int]], names: tuple[str, ...], step: int = 3
) -> Text:
    """Rows 10..0, one column group per scene; both partners' points, ◉ where they meet."""
    scenes = max((len(v) for v in trajectory.values()), default=0)
    text = Text()
    if scenes == 0:
        text.append("no commitment scores yet", style="dim")
        return text
    for level in range(10, -1, -1):
        text.append(f"{level:>2} ┤", style="dim")
        for i in range(scenes):
            hits = [k for k, n in enumerate(names) if i < len(trajectory.get(n, [])) and
                    trajectory[n][i] == level]
            if len(hits) == 2:
                text.append("◉".center(step), style="bold yellow")
            elif hits:
                text.append(MARKS[hits[0]].center(step), style=COLOURS[hits[0]])
            else:
                text.append(" " * step)
        text.append("\n")
    text.append("   └" + "─" * (scenes * step) + "\n", style="dim")
    text.append("    " + "".join(str(i + 1).center(step) for i in range(scenes)) + "  scene\n",
                style="dim")
    for k, name in enumerate(names):
        text.append(f"  {MARKS[k]} ", style=COLOURS[k])
        text.append(name, style=COLOURS[k])
        scores = trajectory.get(name, [])
        text.append(f"  {' → '.join(map(str, scores[-8:]))}\n", style="dim")
    return text


class TrajectoryPlot(Static):
    pass
