"""The table of simulations: one DataTable, rows added once, changed cells updated in place.

Rows are refreshed from ``BatchState`` on the screen's timer. Only rows that are on screen and
whose ``version`` moved (or that are running, for the elapsed clock) are touched, so the cost
follows the viewport, not the batch size. Rows scrolled off keep their last values until they
come back into view (or a sort needs every row current).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from engine.batch.state import BatchState, SimRow
from engine.present.format import (
    STATE_STYLE,
    clip,
    count,
    duration,
    safe,
    scene_label,
    sparkline,
)

# key, label, width. Fixed widths: measuring content in bulk is quadratic in DataTable.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "id", 10),
    ("pair", "pair", 30),
    ("state", "state", 32),
    ("scene", "scene", 7),
    ("commit", "commit", 7),
    ("traj", "trajectory", 21),
    ("retries", "retries", 7),
    ("tokens", "tokens", 8),
    ("elapsed", "elapsed", 7),
)


class Cell(Text):
    """A cell that knows how it sorts (the text alone sorts "10" before "9")."""

    def __init__(self, text: Text, sort_key: Any) -> None:
        super().__init__(text.plain, style=text.style, justify=text.justify, spans=list(text.spans))
        self.sort_key = sort_key


STATE_WIDTH = 32
_ERROR_CLASS = re.compile(r"^[A-Z]\w*(Error|Exception): ")


def state_detail(row: SimRow) -> str:
    """What a simulation is doing, or why it ended: the call that failed is named."""
    if row.state in ("running", "waiting"):
        return row.activity
    detail = row.reason or ""
    if row.state == "failed":
        # "StructuredOutputError: commitment (A) failed…": the call matters, not the class.
        detail = _ERROR_CLASS.sub("", detail, count=1)
    if row.state == "failed" and row.failed_call and row.failed_call not in detail:
        detail = f"{row.failed_call}: {detail}" if detail else row.failed_call
    return "" if detail == row.state else detail


def state_text(row: SimRow, width: int | None = STATE_WIDTH) -> Text:
    """'generating' vs 'retrying action 2/3 in 12 s' vs 'waiting on endpoint', and why a
    simulation failed (cut to ``width`` with an ellipsis; None: whole)."""
    text = Text(row.state, style=STATE_STYLE.get(row.state, ""))
    if row.attempt > 1:
        text.append(f" #{row.attempt}", style="dim")
    detail = state_detail(row)
    if detail:
        text.append(" · ")
        if width is not None:
            detail = clip(detail.replace("\n", " "), max(4, width - len(text.plain)))
        text.append_text(safe(detail, "dim" if row.state != "failed" else "red"))
    return text


def row_cells(row: SimRow, now: float | None) -> dict[str, Cell]:
    """The cells of one row. ``now`` None hides the clock (frozen snapshots)."""
    names = list(row.agents)
    latest = [row.latest(n) for n in names]
    commit = " / ".join("-" if v is None else str(v) for v in latest)
    scored = [v for v in latest if v is not None]
    mean_latest = sum(scored) / len(scored) if scored else -1.0
    traj = " ".join(sparkline(row.trajectory.get(n, []), width=10).ljust(10) for n in names)
    elapsed: float | None = None
    if now is not None and row.started_at is not None:
        elapsed = (row.ended_at or now) - row.started_at
    return {
        "id": Cell(safe(row.sim_id), row.sim_id),
        "pair": Cell(safe(row.pair), row.pair),
        "state": Cell(state_text(row), (row.state, row.activity)),
        "scene": Cell(Text(scene_label(row.scene, row.num_scenes, row.state, row.current_scene),
                           justify="right"), row.scene),
        "commit": Cell(Text(commit, justify="right"),
                       tuple(v if v is not None else -1 for v in latest)),
        "traj": Cell(Text(traj, style="cyan"), mean_latest),
        "retries": Cell(Text(str(row.retries), justify="right",
                             style="yellow" if row.retries else ""), row.retries),
        "tokens": Cell(Text(count(row.tokens), justify="right"), row.tokens),
        "elapsed": Cell(Text(duration(elapsed), justify="right"), elapsed or 0.0),
    }


class SimTable(DataTable[Text]):
    """Simulations of a batch. Call :meth:`sync` from a timer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._seen: dict[str, int] = {}  # sim_id -> row version shown (-1: force)
        self._running_shown: set[str] = set()
        self.filter: Callable[[SimRow], bool] | None = None
        self.sort_column: str | None = None
        self.sort_reverse = False

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def _mark_sorted(self) -> None:
        """The sorted column's header carries ▲ (ascending) or ▼ (descending)."""
        for key, label, _ in COLUMNS:
            column = self.columns.get(ColumnKey(key))
            if column is None:
                continue
            if key == self.sort_column:
                column.label = Text(f"{label} {'▼' if self.sort_reverse else '▲'}", style="bold")
            else:
                column.label = Text(label)
        self.refresh()

    def matching_rows(self, state: BatchState) -> list[SimRow]:
        """The rows the active filter lets through (what aggregates should fold over)."""
        return [r for r in state.rows.values() if self._matches(r)]

    @property
    def selected_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:  # cursor outside the table while it is being rebuilt
            return None

    def _matches(self, row: SimRow) -> bool:
        return self.filter is None or self.filter(row)

    def _add(self, rows: Iterable[SimRow], now: float | None) -> None:
        batch = []
        for row in rows:
            cells = row_cells(row, now)
            batch.append((row.sim_id, [cells[k] for k, _, _ in COLUMNS]))
            self._seen[row.sim_id] = row.version
        for sim_id, cells in batch:
            self.add_row(*cells, key=sim_id)

    def rebuild(self, state: BatchState, now: float | None) -> None:
        """Re-list every matching row (a filter changed: a user action, never per tick)."""
        keep = self.selected_id
        self.clear()
        self._seen.clear()
        self._add((r for r in state.rows.values() if self._matches(r)), now)
        if self.sort_column:
            self._sort(state, now)
        if keep is not None and keep in self._seen:
            self.move_cursor(row=self.get_row_index(keep), animate=False)

    def visible_ids(self) -> list[str]:
        """Keys of the rows currently on screen."""
        first = int(self.scroll_y)
        rows = self.ordered_rows[first : first + max(1, self.size.height)]
        return [str(r.key.value) for r in rows]

    def sync(self, state: BatchState, now: float | None) -> int:
        """Bring on-screen rows up to date; add rows that appeared. Returns cells changed."""
        if self.filter is not None:
            self._drop_unmatched(state)
        new = [r for sid, r in state.rows.items() if sid not in self._seen and self._matches(r)]
        if new:
            self._add(new, now)
            if self.sort_column:
                self._sort(state, now)
        updated = 0
        for sim_id in self.visible_ids():
            row = state.rows.get(sim_id)
            if row is None:
                continue
            running = row.state in ("running", "waiting") and now is not None
            unchanged = self._seen.get(sim_id) == row.version
            if unchanged and not running and sim_id not in self._running_shown:
                continue
            # A row that just stopped running needs one last elapsed update.
            if running:
                self._running_shown.add(sim_id)
            else:
                self._running_shown.discard(sim_id)
            updated += self._update_row(sim_id, row_cells(row, now))
            self._seen[sim_id] = row.version
        return updated

    def _update_row(self, sim_id: str, cells: dict[str, Cell]) -> int:
        """Update only cells whose text or style changed: any update makes DataTable re-render
        every visible cell, so a tick where nothing visible changed should cost nothing."""
        changed = 0
        current = self._data.get(RowKey(sim_id), {})
        for key, _, _ in COLUMNS:
            old = current.get(ColumnKey(key))
            new = cells[key]
            if (isinstance(old, Text) and old.plain == new.plain and old.style == new.style
                    and old.spans == new.spans):
                continue
            self.update_cell(sim_id, key, new)
            changed += 1
        return changed

    def _drop_unmatched(self, state: BatchState) -> None:
        """With a filter on, rows that changed so they no longer match leave the table
        (e.g. filtering on 'running' while simulations complete)."""
        for sim_id, version in list(self._seen.items()):
            row = state.rows.get(sim_id)
            if row is not None and row.version != version and not self._matches(row):
                self.remove_row(sim_id)
                del self._seen[sim_id]
                self._running_shown.discard(sim_id)

    def sort_by(self, column: str, state: BatchState, now: float | None,
                reverse: bool | None = None) -> None:
        """Sort by ``column``; the same column again flips the direction (or ``reverse``)."""
        if reverse is not None:
            self.sort_column, self.sort_reverse = column, reverse
        elif self.sort_column == column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self._sort(state, now)
        self._mark_sorted()

    def _sort(self, state: BatchState, now: float | None) -> None:
        # Sorting needs every row current, not just the visible ones.
        assert self.sort_column is not None
        for sim_id, version in list(self._seen.items()):
            row = state.rows.get(sim_id)
            if row is not None and row.version != version:
                self._update_row(sim_id, row_cells(row, now))
                self._seen[sim_id] = row.version
        self.sort(self.sort_column, key=lambda cell: cell.sort_key, reverse=self.sort_reverse)
