"""The analytics screen: opened with `a` from the batch screen while a batch runs, cycles its
grouping, and shows the run's figures (numbers checked against the engine's own aggregates)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from textual_plotext import PlotextPlot

from engine.analysis.aggregate import trajectory
from engine.analysis.live import GROUPINGS
from engine.analysis.load import load_run
from tests.tui.conftest import screen_text, small_spec, wait_for
from tui.app import RelsimApp
from tui.screens.analytics import AnalyticsScreen
from tui.screens.batch import BatchScreen


async def test_analytics_screen_live_and_grouping(tmp_path: Path) -> None:
    app = RelsimApp(spec=small_spec(tmp_path, replicates=2))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AnalyticsScreen), what="analytics")
        screen = app.screen
        assert isinstance(screen, AnalyticsScreen)
        state = app.session.state
        await wait_for(pilot, lambda: state.counts["completed"] == 6, what="completion")
        await wait_for(pilot, lambda: screen.agg.summary()["completed"] == 6, what="refresh")
        series = {s.group: s for s in screen.agg.trajectory("all")}
        status = str(screen.query_one("#analytics-status", Static).render())
        assert "6/6 completed" in status and "grouped by all" in status
        await pilot.press("g")
        assert screen.by == GROUPINGS[1]
        await pilot.pause(0.1)
        status = str(screen.query_one("#analytics-status", Static).render())
        assert f"grouped by {GROUPINGS[1]}" in status
        # The plots and the heatmap are on screen at 100×30.
        text = screen_text(app)
        assert f"mean commitment by {GROUPINGS[1]}" in text
        assert "final commitment (completed: 6)" in text
        assert "aik" in text and "kwa" in text and "len" in text
        assert screen.query_one("#trajectory", PlotextPlot).size.width >= 40
        await pilot.press("escape")
        assert isinstance(app.screen, BatchScreen)
    # The live means and bands equal the aggregates computed from the run log.
    run_dir = app.session.run_dir
    data = load_run(run_dir)
    disk = trajectory(data, "all")
    for row in disk.iter_rows(named=True):
        assert abs(series["all"].mean[row["scene_index"]] - row["mean"]) < 1e-9
        assert abs(series["all"].low[row["scene_index"]] - row["low"]) < 1e-9
