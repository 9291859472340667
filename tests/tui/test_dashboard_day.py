"""Issue #15, the dashboard used for a day: live view of a run another process writes, actions
on past runs (hidden when they cannot apply), the state panel, sorting both ways, one scene
convention, asking before a rerun of a completed simulation, draining on quit, CLI pages."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from textual.widgets import Static

from engine.batch.runner import BatchRunner
from tests.tui.conftest import small_spec, wait_for
from tui.app import RelsimApp
from tui.screens.batch import BatchScreen
from tui.screens.modals import ConfirmScreen, TextScreen
from tui.screens.simulation import SimulationScreen
from tui.widgets.header import BatchHeader
from tui.widgets.sim_table import SimTable

SMALL = (100, 30)


def footer_keys(app: RelsimApp) -> set[str]:
    """The actions the footer offers now (what check_action lets through)."""
    return {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show}


async def finished_run(tmp_path: Path, **overrides: object) -> Path:
    runner = BatchRunner(small_spec(tmp_path, **overrides))
    await runner.run()
    await runner.aclose()
    return runner.run_dir


async def test_follow_a_run_another_writer_is_writing(tmp_path: Path) -> None:
    """`relsim dash RUN_DIR` on a run being written follows its log (read-only): rows and
    header move, actions that would write are hidden, and it settles when the writer ends."""
    runner = BatchRunner(small_spec(tmp_path, scenes=3, sim={"latency": 0.05}))
    task = asyncio.create_task(runner.run())
    app = RelsimApp(run_dir=runner.run_dir, frozen=True)
    try:
        async with app.run_test(size=SMALL) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch")
            session = app.screen.session
            assert session.following and not session.live_mode
            panel = app.screen.query_one("#rel-state", Static)
            height_before_state = panel.size.height
            header = app.screen.query_one(BatchHeader)
            await wait_for(pilot, lambda: "following" in str(header.render()), what="mode")
            assert not {"cancel", "cancel_all", "rerun", "rerun_failed", "resume"} \
                & footer_keys(app)
            await wait_for(pilot, lambda: session.state.done == 3, timeout=40,
                           what="the writer's batch ends, seen through the log")
            await task
            await runner.aclose()  # the writer lets go of the run
            await wait_for(pilot, lambda: not session.following, what="writer gone")
            table = app.screen.query_one(SimTable)
            await wait_for(pilot, lambda: table.get_cell("s0001", "state").plain
                           .startswith("completed"), what="rows follow")
            # The state panel grew when a state arrived (it kept its first, empty height).
            assert session.state.rows[table.selected_id or "s0001"].rel_state
            await wait_for(pilot, lambda: panel.size.height > height_before_state + 3,
                           what="the state panel shows the state")
    finally:
        if not task.done():
            runner.cancel_all()
        await asyncio.gather(task, return_exceptions=True)
        await runner.aclose()


async def test_past_run_resume_and_rerun_become_live(tmp_path: Path) -> None:
    """A past run offers rerun (asking first for a completed one), which makes it live; the
    rerun row loses the old attempt's scores; cancel is hidden when nothing runs."""
    run_dir = await finished_run(tmp_path)
    app = RelsimApp(run_dir=run_dir, frozen=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch")
        screen = app.screen
        await pilot.pause(0.3)
        keys = footer_keys(app)
        assert "cancel" not in keys and "cancel_all" not in keys  # nothing runs
        assert "resume" not in keys  # nothing unfinished
        assert "rerun" in keys  # the selected simulation has ended
        session = screen.session
        assert session.state.rows["s0001"].trajectory
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="asks")
        await pilot.press("y")
        await wait_for(pilot, lambda: session.live_mode, what="the run is live")
        row = session.state.rows["s0001"]
        assert row.attempt == 2
        await wait_for(pilot, lambda: row.state == "completed", timeout=30, what="rerun done")
        assert session.state.rows["s0002"].attempt == 1
        await session.shutdown()


async def test_resume_an_interrupted_run_from_the_dashboard(tmp_path: Path) -> None:
    runner = BatchRunner(small_spec(tmp_path, scenes=3, sim={"latency": 0.05}))
    task = asyncio.create_task(runner.run())
    while runner.state.counts["running"] < 3:
        await asyncio.sleep(0.02)
    runner.drain()
    await task
    await runner.aclose()
    app = RelsimApp(run_dir=runner.run_dir, frozen=True)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch")
        await pilot.pause(0.3)
        session = app.screen.session
        assert session.resumable and "resume" in footer_keys(app)
        await pilot.press("u")
        await wait_for(pilot, lambda: session.live_mode and session.state.done == 3
                       and not session.running, timeout=40, what="resumed to the end")
        assert session.state.counts["completed"] == 3
        assert "resume" not in footer_keys(app)
        await session.shutdown()


async def test_state_panel_sort_scene_convention_and_warnings(tmp_path: Path) -> None:
    run_dir = await finished_run(tmp_path, sim={"malformed": 0.15}, seed=3)
    app = RelsimApp(run_dir=run_dir, frozen=True)
    async with app.run_test(size=(200, 55)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch")
        await pilot.pause(0.3)
        screen = app.screen
        state = screen.session.state
        row = state.rows["s0001"]
        assert row.rel_state and row.outcome in ("together", "separated")
        panel = str(screen.query_one("#rel-state", Static).render())
        for name in ("conflict", "repair_outcome", "breakup_marker", "outcome"):
            assert name in panel
        assert row.outcome in panel
        # Sorting: any column, both directions, marked in the header.
        table = screen.query_one(SimTable)
        await pilot.press("s")  # first column (id), ascending
        assert table.sort_column == "id" and not table.sort_reverse
        assert "▲" in str(table.columns[next(iter(table.columns))].label)
        await pilot.press("S")
        assert table.sort_reverse
        assert [str(r.key.value) for r in table.ordered_rows] == ["s0003", "s0002", "s0001"]
        assert "▼" in str(table.columns[next(iter(table.columns))].label)
        for _ in range(3):
            await pilot.press("s")
        assert table.sort_column == "scene"
        # The table fills: every row is visible and the panels take the rest.
        assert table.size.height >= table.row_count + 1
        # Retry warnings can be read whole.
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, TextScreen), what="warnings")
        body = str(app.screen.query_one("#text-body", Static).render())
        assert state.recent_retries and state.recent_retries[-1].reason in body.replace("\n", "")
        await pilot.press("escape")
        # The simulation screen: the scene in the header is the table's; state per scene.
        table.move_cursor(row=table.get_row_index("s0001"))  # a completed one
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SimulationScreen), what="drill")
        sim = app.screen
        sim_id = sim.sim_id
        await pilot.pause(0.3)
        header = str(sim.query_one("#sim-header", Static).render())
        assert f"scene {table.get_cell(sim_id, 'scene').plain}" in header
        side = str(sim.query_one("#sim-state", Static).render())
        assert "relationship state per scene" in side and "scene 2" in side
        assert "After-action report" in side and "outcome" in side


def test_subcommand_help_has_descriptions_and_show_opens_latest(tmp_path: Path) -> None:
    for command in ("runs", "show", "resume", "export", "rerun", "dash"):
        out = subprocess.run([sys.executable, "-m", "tui.cli", command, "--help"],
                             capture_output=True, text=True, check=True).stdout
        _, _, rest = out.partition("\n\n")
        assert rest.strip() and not rest.lstrip().startswith(("positional", "options")), command
    run_dir = asyncio.run(finished_run(tmp_path))
    out = subprocess.run([sys.executable, "-m", "tui.cli", "show", "--out", str(run_dir.parent)],
                         capture_output=True, text=True, check=True).stdout
    assert run_dir.name in out.replace("\n", "")
