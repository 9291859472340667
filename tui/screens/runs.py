"""Runs: browse past run directories under ``logs/`` and open one (read-only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from engine.batch.runlog import MANIFEST
from tui.format import safe

if TYPE_CHECKING:
    from tui.app import RelsimApp


def find_runs(out_dir: Path) -> list[Path]:
    """Run directories (they hold a manifest), newest first."""
    if not out_dir.is_dir():
        return []
    runs = [p for p in out_dir.iterdir() if p.is_dir() and (p / MANIFEST).is_file()]
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)


def run_summary(run_dir: Path) -> dict[str, Any]:
    """Name, model, size and status counts from the manifest (tolerant of partial files)."""
    info: dict[str, Any] = {"name": run_dir.name, "model": "?", "sims": "?", "status": "",
                            "run": "?"}
    try:
        data = json.loads((run_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return info
    spec = data.get("spec") or {}
    info["name"] = spec.get("name", run_dir.name)
    info["model"] = spec.get("model", "?")
    info["run"] = data.get("status", "?")
    sims = data.get("sims") or {}
    info["sims"] = len(sims)
    statuses: dict[str, int] = {}
    for v in sims.values():
        s = v.get("status", "?")
        statuses[s] = statuses.get(s, 0) + 1
    info["status"] = " ".join(f"{k} {n}" for k, n in sorted(statuses.items()))
    return info


class RunsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,b", "back", "Back"),
        Binding("enter", "open", "Open"),
    ]

    def __init__(self, out_dir: Path) -> None:
        super().__init__()
        self.out_dir = out_dir
        self.runs: list[Path] = []

    @property
    def relsim(self) -> RelsimApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(safe(f"past runs in {self.out_dir}", "bold"), id="runs-title")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs", DataTable)
        for key, label, width in (("dir", "run", 34), ("name", "batch", 20), ("model", "model", 16),
                                  ("sims", "sims", 6), ("run", "run", 22),
                                  ("status", "simulations", 50)):
            table.add_column(label, key=key, width=width)
        self.runs = find_runs(self.out_dir)
        for run in self.runs:
            info = run_summary(run)
            table.add_row(safe(run.name), safe(str(info["name"])), safe(str(info["model"])),
                          Text(str(info["sims"])), safe(str(info["run"])), safe(info["status"]),
                          key=str(run))
        if not self.runs:
            self.query_one("#runs-title", Static).update(
                safe(f"no runs in {self.out_dir} yet", "dim"))
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.relsim.open_run(Path(str(event.row_key.value)))

    def action_open(self) -> None:
        table = self.query_one("#runs", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self.relsim.open_run(Path(str(key.value)))

    def action_back(self) -> None:
        self.app.pop_screen()
