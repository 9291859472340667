"""Analytics of the batch on screen: mean trajectory with a 95 % band per group (``g`` cycles
the grouping), persona × partner heatmap, final-score distribution, state-marker frequencies.

Refreshed on a timer from the session's ``BatchState`` (live while the batch runs, or a past
run's rebuilt state); outcomes and state markers, which only the run log carries, are re-read
from disk by a thread worker now and then."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual_plotext import PlotextPlot

from engine.analysis.live import GROUPINGS, LiveAggregator, read_meta
from tui.session import Session
from tui.widgets.analytics import draw_histogram, draw_markers, draw_trajectory, heatmap_table

REFRESH_S = 1.0
DISK_EVERY_S = 10.0  # outcomes/markers from the log: a full scan, so seldom


class AnalyticsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "cycle_grouping", "Group by"),
        Binding("h", "toggle_heatmap", "Heatmap: commitment/separated"),
        Binding("escape", "app.pop_screen", "Back"),
    ]
    DEFAULT_CSS = """
    AnalyticsScreen #analytics-grid { grid-size: 2 2; grid-columns: 1fr 1fr; }
    AnalyticsScreen #analytics-status { height: 1; }
    AnalyticsScreen #heatmap { overflow: hidden; }
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.grouping = 0
        self.show_separated = False
        self.agg = LiveAggregator(read_meta(session.run_dir))
        self.disk: Any = None  # RunData read from the log (outcomes, markers)
        self._disk_at = -DISK_EVERY_S
        self._drawn = (-1, -1, None, False)
        self.timings: list[float] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="analytics-status")
        with Grid(id="analytics-grid"):
            yield PlotextPlot(id="trajectory")
            yield Static("", id="heatmap")
            yield PlotextPlot(id="histogram")
            yield PlotextPlot(id="markers")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self.refresh_data)
        self.refresh_data()

    @property
    def by(self) -> str:
        return GROUPINGS[self.grouping]

    def refresh_data(self) -> None:
        """Fold new state in and redraw what changed. The only place widgets are updated."""
        start = time.perf_counter()
        state = self.session.state
        self.agg.update(state.rows.values())
        if not self.agg.meta and self.session.run_dir is not None:
            self.agg.meta = read_meta(self.session.run_dir)  # the manifest appeared late
        mono = time.monotonic()
        if mono - self._disk_at >= DISK_EVERY_S and (self.session.running or self.disk is None):
            self._disk_at = mono
            self.load_disk()
        key = (self.agg.version, self.grouping, id(self.disk), self.show_separated)
        if key != self._drawn:
            self._drawn = key
            self.redraw()
        self.timings.append(time.perf_counter() - start)

    def redraw(self) -> None:
        s = self.agg.summary()
        has_outcomes = self.disk is not None and self.disk.has_outcomes
        self.query_one("#analytics-status", Static).update(
            f"{self.session.title}: {s['completed']}/{s['simulations']} completed · grouped "
            f"by {self.by} (g) · 95% t bands (dotted)"
            + (" · outcomes in run (h)" if has_outcomes else ""))
        draw_trajectory(self.query_one("#trajectory", PlotextPlot),
                        self.agg.trajectory(self.by), f"mean commitment by {self.by}")
        draw_histogram(self.query_one("#histogram", PlotextPlot), *self.agg.histogram())
        if self.show_separated and has_outcomes:
            from engine.analysis.aggregate import heatmap

            personas, matrix, what = heatmap(self.disk)
            v_max = 1.0 if what == "share separated" else 10.0
        else:
            personas, matrix = self.agg.heatmap()
            what, v_max = "mean final commitment (row with column)", 10.0
        self.query_one("#heatmap", Static).update(heatmap_table(personas, matrix, what, v_max))
        labels: list[str] = []
        shares: list[float] = []
        if self.disk is not None and self.disk.has_states:
            from engine.analysis.aggregate import marker_frequencies

            markers = marker_frequencies(self.disk)
            if markers is not None:
                rows = markers.filter(~markers["value"].is_in(["none", "unknown"]))
                for r in rows.iter_rows(named=True):
                    labels.append(f"{r['variable']}={r['value']}")
                    shares.append(float(r["share"]))
        draw_markers(self.query_one("#markers", PlotextPlot), labels, shares)

    @work(thread=True, exclusive=True, group="analytics-disk")
    def load_disk(self) -> None:
        run_dir = self.session.run_dir
        if run_dir is None or not (run_dir / "manifest.json").is_file():
            return
        from engine.analysis.load import load_run
        from engine.errors import RelsimError

        try:
            data = load_run(run_dir, keep_reports=False)
        except (RelsimError, OSError, ValueError):
            return
        self.app.call_from_thread(self._disk_loaded, data)

    def _disk_loaded(self, data: Any) -> None:
        self.disk = data
        self.refresh_data()

    def action_cycle_grouping(self) -> None:
        self.grouping = (self.grouping + 1) % len(GROUPINGS)
        self.refresh_data()

    def action_toggle_heatmap(self) -> None:
        if self.disk is None or not self.disk.has_outcomes:
            self.notify("this run records no outcomes: the heatmap shows commitment",
                        timeout=3)
            return
        self.show_separated = not self.show_separated
        self.refresh_data()
