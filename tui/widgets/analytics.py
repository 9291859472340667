"""The analytics screen's plots (textual-plotext: plotext's terminal charts as Textual widgets,
maintained by the Textual team) and the persona heatmap (a Rich table of coloured cells: at
14 × 14 personas it is more readable than a plotted matrix).

The final-score histogram is Textual's own ``Sparkline`` (block-character bars) with a score
axis under it, not a plotext bar chart: it changes on every refresh of a live batch, and a
plotext bar chart costs 3–15 ms to build in pure Python (the largest part of a refresh at
10,000 simulations), where the sparkline renders 21 bars in well under a millisecond and at
50 columns shows the same shape."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Sparkline, Static
from textual_plotext import PlotextPlot

from engine.analysis.live import Series


class Chart(PlotextPlot):
    """A PlotextPlot that builds its canvas once per drawing: plotext is pure Python (several
    milliseconds a build at 50×13), and Textual renders a widget again on every repaint of
    its region, not only when its data changed. ``drawn()`` marks new data."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._data_version = 0
        self._cached: tuple[tuple[object, ...], RenderResult] | None = None

    def drawn(self) -> None:
        self._data_version += 1
        self.refresh()

    def render(self) -> RenderResult:
        key = (self._data_version, self.size, self.app.theme, self.theme)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, super().render())
        return self._cached[1]


COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red", "white", "orange")


def draw_trajectory(widget: Chart, series: list[Series], title: str) -> None:
    plt = widget.plt
    plt.clear_data()
    plt.clear_figure()
    plt.title(title)
    plt.ylim(0, 10)
    plt.xlabel("scene")
    for i, s in enumerate(series):
        if not len(s.mean):
            continue
        x = list(range(1, len(s.mean) + 1))
        colour = COLOURS[i % len(COLOURS)]
        band = ~np.isnan(s.low)
        if band.any():  # the 95 % band as its two edges, dotted
            bx = [v for v, k in zip(x, band, strict=True) if k]
            plt.plot(bx, s.low[band].tolist(), color=colour, marker="dot")
            plt.plot(bx, s.high[band].tolist(), color=colour, marker="dot")
        plt.plot(x, s.mean.tolist(), color=colour, marker="hd", label=f"{s.group[:18]} n={s.n}")
    widget.drawn()


class ScoreAxis(Widget):
    """Score labels under a sparkline of ``bins`` bars, each at its bar's first column (the
    sparkline gives bar j the columns c with ``int(c * bins / width) == j``)."""

    DEFAULT_CSS = "ScoreAxis { height: 1; }"
    LABELS: ClassVar[tuple[float, ...]] = (0, 2, 4, 6, 8, 10)

    def __init__(self, bins: int, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bins = bins

    def render(self) -> RenderResult:
        width = self.size.width
        line = [" "] * width
        for score in self.LABELS:
            col = math.ceil(2 * score * width / self.bins)
            label = f"{score:g}"
            if col + len(label) <= width:
                line[col : col + len(label)] = label
        return Text("".join(line), style="dim")


class Histogram(Vertical):
    """Final commitment in 21 half-point bins: title, bars, score axis."""

    DEFAULT_CSS = """
    Histogram { height: 1fr; }
    Histogram > #histogram-title { height: 1; }
    Histogram > Sparkline { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="histogram-title")
        yield Sparkline([], id="histogram-bars")
        yield ScoreAxis(21)


def draw_histogram(widget: Histogram, bins: Sequence[float], counts: Sequence[int]) -> None:
    peak = max(counts, default=0)
    top = f", top bar {peak}" if peak else ""  # the bars have no count axis
    widget.query_one("#histogram-title", Static).update(
        Text(f"final commitment (completed: {sum(counts)}){top}", style="bold"))
    widget.query_one(Sparkline).data = list(counts)


def draw_markers(widget: Chart, labels: Sequence[str], shares: Sequence[float]) -> None:
    plt = widget.plt
    plt.clear_data()
    plt.clear_figure()
    if not labels:
        plt.title("state markers: none in this run")
    else:
        plt.title("state markers (share of scene states)")
        plt.bar(list(labels), list(shares), orientation="horizontal", width=0.5)
    widget.drawn()


def heatmap_table(personas: Sequence[str], matrix: np.ndarray, what: str,
                  v_max: float) -> Table | Text:
    if not personas:
        return Text(f"{what}: no completed simulations yet", style="dim")
    table = Table(title=what, box=None, padding=(0, 0), show_header=True,
                  header_style="bold")
    table.add_column("", no_wrap=True)
    short = [p.split("-")[0][:4] for p in personas]
    for s in short:
        table.add_column(s[:3], justify="center", width=3)
    for i, label in enumerate(short):
        cells: list[Text | str] = []
        for j in range(len(personas)):
            v = float(matrix[i, j])
            if math.isnan(v):
                cells.append(Text(" · ", style="dim"))
                continue
            k = max(0.0, min(1.0, v / v_max))
            shade = int(40 + 180 * k)
            cells.append(Text(f"{v:3.0f}" if v_max > 1 else f"{v * 100:3.0f}",
                              style=f"black on rgb({255 - shade},{200},{shade})"))
        table.add_row(label, *cells)
    return table
