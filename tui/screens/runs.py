"""Runs: browse past run directories under ``logs/`` and open one (read-only)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from engine.batch.runlist import RunInfo, list_runs
from engine.present.format import safe
from tui.messages import OpenRun


class RunsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,b", "back", "Back"),
        Binding("enter", "open", "Open"),
    ]

    def __init__(self, out_dir: Path) -> None:
        super().__init__()
        self.out_dir = out_dir
        self.runs: list[RunInfo] = []

    def compose(self) -> ComposeResult:
        yield Static(safe(f"past runs in {self.out_dir}", "bold"), id="runs-title")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        for key, label, width in (("dir", "run directory", 34), ("name", "batch", 20),
                                  ("model", "model", 16), ("sims", "sims", 6),
                                  ("run", "status", 22), ("status", "simulations", 50)):
            table.add_column(label, key=key, width=width)
        self.runs = list_runs(self.out_dir)[::-1]  # newest first
        for run in self.runs:
            table.add_row(safe(run.run_dir.name), safe(run.name), safe(run.model),
                          Text(str(run.sims)), safe(run.status), safe(run.counts_text()),
                          key=str(run.run_dir))
        if not self.runs:
            self.query_one("#runs-title", Static).update(
                safe(f"no runs in {self.out_dir} yet", "dim"))
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(OpenRun(Path(str(event.row_key.value))))

    def action_open(self) -> None:
        table = self.query_one("#runs", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self.post_message(OpenRun(Path(str(key.value))))

    def action_back(self) -> None:
        self.app.pop_screen()
