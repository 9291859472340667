"""The batch screen with the real BatchRunner: rows fill and complete; drill in and back."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import Log

from engine.batch.reader import RunReader
from tests.tui.conftest import SIZE, screen_text, small_spec, wait_for
from tui.app import RelsimApp
from tui.screens.batch import BatchScreen
from tui.screens.simulation import SimulationScreen
from tui.widgets.sim_table import SimTable
from tui.widgets.transcript import Transcript


def transcript_text(screen: SimulationScreen) -> str:
    log = screen.query_one(Transcript)
    return "\n".join(strip.text for strip in log.lines)


async def test_batch_fills_and_completes(tmp_path: Path) -> None:
    app = RelsimApp(spec=small_spec(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        table = app.screen.query_one(SimTable)
        await wait_for(pilot, lambda: table.row_count == 3, what="rows")
        state = app.session.state
        await wait_for(pilot, lambda: state.counts["completed"] == 3, what="completion")
        await pilot.pause(0.4)  # one more timer tick paints the final state
        for sim_id in state.rows:
            assert "completed" in table.get_cell(sim_id, "state").plain
            assert table.get_cell(sim_id, "scene").plain == "2/2"
        text = screen_text(app)
        assert "completed 3" in text
        assert app.screen.query_one("#dialogue", Log).line_count > 0
        # The dashboard wrote a normal run directory.
        run_dir = app.session.run_dir
        assert run_dir is not None and (run_dir / "manifest.json").exists()
    reader = RunReader(run_dir)
    assert reader.manifest["status"] == "completed"
    assert all(r.state == "completed" for r in reader.state().rows.values())


async def test_drill_in_and_back(tmp_path: Path) -> None:
    app = RelsimApp(spec=small_spec(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        state = app.session.state
        await wait_for(pilot, lambda: state.done == 3, what="completion")
        await pilot.pause(0.3)
        batch = app.screen
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SimulationScreen), what="drill-in")
        screen = app.screen
        assert isinstance(screen, SimulationScreen)
        assert screen.sim_id == "s0002"
        await wait_for(pilot, lambda: "simulation completed" in transcript_text(screen),
                       what="transcript")
        text = transcript_text(screen)
        assert "Scene 1:" in text and "Scene 2:" in text  # scene headers
        assert "Summary:" in text
        assert "commitment" in text and "/10" in text  # per-partner commitment
        assert " feels " in text  # emotion appraisal
        names = state.rows["s0002"].agents
        # an action line, tagged with the approach of the option chosen
        assert any(re.search(rf"{re.escape(n)} \[\w+\]: “", text) for n in names)
        side = screen_text(app)
        assert "calls & usage" in side and "scene" in side  # stats and the plot
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is batch, what="back")


async def test_past_run_read_only(tmp_path: Path) -> None:
    """A finished run opens from its logs, and its drill-in shows the same transcript."""
    app = RelsimApp(spec=small_spec(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session is not None and app.session.state.done == 3,
                       what="completion")
        # The last simulation's end is counted a moment before the run loop returns; `q`
        # meanwhile asks "a batch is running: quit?" and the app would wait for an answer.
        await wait_for(pilot, lambda: not app.session.running, what="the run loop's end")
        run_dir = app.session.run_dir
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="exit")
    app = RelsimApp(run_dir=run_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        await pilot.pause(0.3)
        table = app.screen.query_one(SimTable)
        assert table.row_count == 3
        assert "read-only" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SimulationScreen), what="drill-in")
        text = transcript_text(app.screen)
        assert "Scene 2:" in text and "simulation completed" in text
