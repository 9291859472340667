"""The analytics screen refreshing over 10,000 simulations (target p95 ≤ 50 ms per refresh).

A 10,000-simulation run is written (as in bench_reader), opened as the dashboard opens a past
run, and the analytics screen is shown at 100×30. Each sample changes 500 rows as a live batch
would (a new score, a new version) and times one refresh: folding the changed rows in,
the group statistics, redrawing the plots, and rendering each chart to terminal segments
(plotext canvases are built in ``render``; the histogram is a Textual ``Sparkline``).

    python -m pytest tests/perf/bench_analytics_tui.py -s      Knob: RELSIM_BENCH_SIMS (10000)
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from textual.widget import Widget
from textual.widgets import Sparkline
from textual_plotext import PlotextPlot

from engine.batch.gctune import batch_gc
from tests.perf.bench_reader import SIMS, write_run
from tui.app import RelsimApp
from tui.screens.analytics import AnalyticsScreen

TARGET_MS = 50.0
SAMPLES = 60


async def measure(run_dir: Path) -> tuple[list[float], list[float]]:
    app = RelsimApp(run_dir=run_dir)
    refresh: list[float] = []
    cycle: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.push_screen(AnalyticsScreen(app.screen.session))  # type: ignore[attr-defined]
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AnalyticsScreen)
        rows = list(screen.session.state.rows.values())
        rng = random.Random(1)
        for i in range(SAMPLES):
            for row in rng.sample(rows, 500):  # a live batch's changes between two ticks
                for scores in row.trajectory.values():
                    if scores:
                        scores[-1] = rng.randint(0, 10)
                row.version += 1
            if i % 10 == 5:
                await pilot.press("g")  # regrouping is a refresh too
            start = time.perf_counter()
            screen.refresh_data()
            for chart in [*screen.query(PlotextPlot), *screen.query(Sparkline)]:
                render(chart)
            elapsed = (time.perf_counter() - start) * 1000
            (cycle if i % 10 == 5 else refresh).append(elapsed)
            await pilot.pause()
    return refresh, cycle


def render(widget: Widget) -> None:
    """The widget's renderable drawn to segments at its size, as the compositor would."""
    console = widget.app.console
    options = console.options.update_dimensions(widget.size.width, widget.size.height)
    list(console.render(widget.render(), options))  # type: ignore[arg-type]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def test_analytics_refresh_with_10000_simulations() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = asyncio.run(write_run(tmp))
        with batch_gc():  # as `relsim dash` runs the dashboard
            refresh, cycle = asyncio.run(measure(run_dir))
    print(f"\nanalytics screen, {SIMS:,} simulations at 100×30: refresh median "
          f"{statistics.median(refresh):.1f} ms, p95 {p95(refresh):.1f} ms, max "
          f"{max(refresh):.1f} ms over {len(refresh)} refreshes (500 rows changed each); "
          f"after `g` (regroup) max {max(cycle):.1f} ms (target p95 ≤ {TARGET_MS:g} ms)")
    assert p95(refresh) <= TARGET_MS
