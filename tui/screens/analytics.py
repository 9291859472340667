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

from engine.analysis.live import GROUPINGS, LiveAggregator, read_meta
from tui.session import Session
from tui.widgets.analytics import (
    Chart,
    Histogram,
    draw_histogram,
    draw_markers,
    draw_trajectory,
    heatmap_table,
)

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
        self._drawn: dict[str, tuple[object, ...]] = {}  # per widget: the inputs drawn
        self._markers: tuple[list[str], list[float]] = ([], [])
        self.timings: list[float] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="analytics-status")
        with Grid(id="analytics-grid"):
            yield Chart(id="trajectory")
            yield Static("", id="heatmap")
            yield Histogram(id="histogram")
            yield Chart(id="markers")
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
        self.redraw()
        self.timings.append(time.perf_counter() - start)

    def _changed(self, widget: str, *inputs: object) -> bool:
        """Whether ``widget``'s inputs differ from those it was last drawn from (each plot is
        rebuilt only when its own data changed: a new log read leaves the trajectory alone)."""
        if self._drawn.get(widget) == inputs:
            return False
        self._drawn[widget] = inputs
        return True

    def redraw(self) -> None:
        version, disk = self.agg.version, id(self.disk)
        has_outcomes = self.disk is not None and self.disk.has_outcomes
        if self._changed("status", version, self.grouping, has_outcomes):
            s = self.agg.summary()
            self.query_one("#analytics-status", Static).update(
                f"{self.session.title}: {s['completed']}/{s['simulations']} completed · "
                f"grouped by {self.by} (g) · 95% t bands (dotted)"
                + (" · outcomes in run (h)" if has_outcomes else ""))
        if self._changed("trajectory", version, self.grouping):
            draw_trajectory(self.query_one("#trajectory", Chart),
                            self.agg.trajectory(self.by), f"mean commitment by {self.by}")
        if self._changed("histogram", version):
            draw_histogram(self.query_one("#histogram", Histogram), *self.agg.histogram())
        separated = self.show_separated and has_outcomes
        if self._changed("heatmap", disk if separated else version, separated):
            self._draw_heatmap(separated)
        if self._changed("markers", disk):
            draw_markers(self.query_one("#markers", Chart), *self._markers)

    def _draw_heatmap(self, separated: bool) -> None:
        if separated:
            from engine.analysis.aggregate import heatmap

            personas, matrix, what = heatmap(self.disk)
            v_max = 1.0 if what == "share separated" else 10.0
        else:
            personas, matrix = self.agg.heatmap()
            what, v_max = "mean final commitment (row with column)", 10.0
        self.query_one("#heatmap", Static).update(heatmap_table(personas, matrix, what, v_max))

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
        # The marker frequencies change only with the log: computed here, off the UI thread,
        # once per read (not on every redraw).
        self.app.call_from_thread(self._disk_loaded, data, marker_bars(data))

    def _disk_loaded(self, data: Any, markers: tuple[list[str], list[float]]) -> None:
        self.disk = data
        self._markers = markers
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


def marker_bars(data: Any) -> tuple[list[str], list[float]]:
    """Labels and shares of the state markers worth a bar (not ``none``/``unknown``)."""
    from engine.analysis.aggregate import marker_frequencies

    labels: list[str] = []
    shares: list[float] = []
    markers = marker_frequencies(data) if data.has_states else None
    if markers is not None:
        rows = markers.filter(~markers["value"].is_in(["none", "unknown"]))
        for r in rows.iter_rows(named=True):
            labels.append(f"{r['variable']}={r['value']}")
            shares.append(float(r["share"]))
    return labels, shares
