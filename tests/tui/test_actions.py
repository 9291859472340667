"""Table actions (filter, sort, dialogue switch, export), the runs browser, help and the
command-line entry points."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from tests.tui.conftest import SIZE, small_spec, wait_for
from tui.app import RelsimApp
from tui.cli import main
from tui.screens.batch import BatchScreen, parse_filter
from tui.screens.modals import HelpScreen
from tui.screens.runs import RunsScreen
from tui.widgets.sim_table import SimTable


def test_parse_filter() -> None:
    assert parse_filter("failed Aiko state:running") == ({"failed", "running"}, ["aiko"])


async def test_filter_sort_dialogue_export_runs_help(tmp_path: Path) -> None:
    app = RelsimApp(spec=small_spec(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        state = app.session.state
        await wait_for(pilot, lambda: state.done == 3, what="completion")
        await pilot.pause(0.3)
        screen = app.screen
        table = screen.query_one(SimTable)
        # `/` filters by text and by state.
        await pilot.press("slash", *"lena")
        assert screen.query_one("#filter", Input).has_focus
        assert table.row_count == 2
        await pilot.press("enter")
        assert table.has_focus
        screen.query_one("#filter", Input).value = "failed"
        await pilot.pause()
        assert table.row_count == 0
        await pilot.press("escape")  # clears the filter
        await pilot.pause()
        assert table.row_count == 3
        # Sorting by a column (click its header, twice for descending).
        table.sort_by("id", state, None)
        table.sort_by("id", state, None)
        assert [str(r.key.value) for r in table.ordered_rows] == ["s0003", "s0002", "s0001"]
        # Dialogue: selected simulation only, then all again.
        await pilot.press("d")
        await pilot.pause(0.3)
        dialogue = screen.query_one("#dialogue")
        assert dialogue.lines and all(line.startswith("s0003") for line in dialogue.lines)
        await pilot.press("d")
        await pilot.pause(0.3)
        assert {line[:5] for line in dialogue.lines} == {"s0001", "s0002", "s0003"}
        # Export: the rows of `relsim export` (sim × scene × partner, 0-based scene_index).
        await pilot.press("e")
        path = app.session.run_dir / "export.csv"
        rows = list(csv.DictReader(path.open()))
        assert len(rows) == 3 * 2 * 2 and {r["sim_id"] for r in rows} == set(state.rows)
        assert {r["scene_index"] for r in rows} == {"0", "1"}
        assert main(["export", str(app.session.run_dir), "-o", str(tmp_path / "cli.csv")]) == 0
        assert (tmp_path / "cli.csv").read_text() == path.read_text()  # one convention
        # Every action is in the command palette too.
        titles = {c.title for c in app.get_system_commands(screen)}
        for action in ("Cancel", "Cancel all", "Rerun", "Rerun failed", "Transcript", "Filter",
                       "Export", "Back", "Help", "Quit"):
            assert f"relsim: {action}" in titles
        # Help.
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        # Runs browser lists this run; opening it shows it read-only.
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen), what="runs")
        runs = app.screen.query_one("#runs", DataTable)
        assert runs.row_count == 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen)
                       and not app.screen.session.live_mode, what="read-only batch")
        await pilot.pause(0.3)
        assert app.screen.query_one(SimTable).row_count == 3


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Capture how the commands build the app instead of taking over the terminal."""
    calls: list[dict[str, Any]] = []

    def run(self: RelsimApp) -> int:
        calls.append({"spec": self.initial_spec, "run_dir": self.initial_run,
                      "out": self.out_dir})
        return 0

    monkeypatch.setattr(RelsimApp, "run", run)
    return calls


def test_entry_points(fake_run: list[dict[str, Any]], tmp_path: Path) -> None:
    assert main([]) == 0  # plain `relsim` opens the launch screen
    assert fake_run[-1]["spec"] is None and fake_run[-1]["run_dir"] is None
    assert main(["demo", "--out", str(tmp_path)]) == 0
    spec = fake_run[-1]["spec"]
    assert spec.name == "demo" and spec.model == "sim" and fake_run[-1]["out"] == tmp_path
    assert main(["dash", str(tmp_path)]) == 0  # a directory: a past run, read-only
    assert fake_run[-1]["run_dir"] == tmp_path
    assert main(["dash", str(tmp_path / "missing.toml")]) == 2


async def test_filtered_table_follows_state_changes() -> None:
    """Unit-level: a state filter adds rows entering the state and drops rows leaving it;
    only changed rows are touched."""
    from textual.app import App, ComposeResult

    from engine.batch.state import BatchState, SimRow
    from engine.events import SimStateChanged
    from tui.screens.batch import row_filter

    state = BatchState()
    for i in range(1, 4):
        state.add_row(SimRow(f"s{i}", ("A", "B"), num_scenes=2))

    class TableApp(App[None]):
        def compose(self) -> ComposeResult:
            yield SimTable()

    async with TableApp().run_test(size=SIZE) as pilot:
        table = pilot.app.query_one(SimTable)
        table.sync(state, None)
        assert table.row_count == 3
        assert table.sync(state, None) == 0  # nothing changed: no cell updated
        table.filter = row_filter("running")
        table.rebuild(state, None)
        assert table.row_count == 0
        state.apply(SimStateChanged(sim_id="s2", state="running"))
        table.sync(state, None)
        assert [str(r.key.value) for r in table.ordered_rows] == ["s2"]
        state.apply(SimStateChanged(sim_id="s2", state="completed"))
        table.sync(state, None)
        assert table.row_count == 0


def test_header_shows_cost_only_when_priced() -> None:
    from engine.batch.state import BatchState, SimRow
    from engine.events import CallCompleted
    from tui.widgets.header import header_text

    state = BatchState()
    state.add_row(SimRow("s1", ("A", "B"), 1))

    def header() -> str:
        return header_text(state, title="t", model="openai/gpt-4o-mini", now=None,
                           calls_per_s=None, live=True).plain

    state.apply(CallCompleted(sim_id="s1", purpose="beat", attempts=1, prompt_tokens=10,
                              completion_tokens=5, latency_s=0.1))
    assert "cost" not in header()
    state.apply(CallCompleted(sim_id="s1", purpose="beat", attempts=1, prompt_tokens=10,
                              completion_tokens=5, cost_usd=0.0123, latency_s=0.1))
    assert "cost $0.0123" in header()
