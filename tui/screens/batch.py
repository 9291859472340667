"""The main screen: header, the simulations table, live dialogue, retry warnings and the
batch's commitment picture, all refreshed from ``BatchState`` on one timer."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Log, Static

from engine.batch.state import STATES, DialogueLine, SimRow
from engine.events import RetryWarning
from engine.present.rate import CallRate
from engine.textsafe import printable
from tui.messages import OpenSimulation, ShowRuns
from tui.pace import Pace
from tui.screens.modals import ConfirmScreen
from tui.session import Session, new_items
from tui.widgets.commitment import CommitmentPanel, commitment_text
from tui.widgets.header import BatchHeader, header_text
from tui.widgets.sim_table import SimTable

LOG_LINES = 2000
PANEL_EVERY_S = 1.0  # lines kept by the dialogue and retry panels


def parse_filter(text: str) -> tuple[set[str], list[str]]:
    """``/`` filter text → (states wanted, words that must appear in id, pair or activity)."""
    states: set[str] = set()
    words: list[str] = []
    for word in text.lower().split():
        name = word.removeprefix("state:")
        if name in STATES:
            states.add(name)
        elif word:
            words.append(word)
    return states, words


def row_filter(text: str) -> Any:
    states, words = parse_filter(text)
    if not states and not words:
        return None

    def match(row: SimRow) -> bool:
        if states and row.state not in states:
            return False
        hay = f"{row.sim_id} {row.pair} {row.activity} {row.reason or ''} {row.turning_point}"
        hay = hay.lower()
        return all(w in hay for w in words)

    return match


def dialogue_line(line: DialogueLine) -> str:
    who = f"{line.speaker}: " if line.speaker else "  "
    text = f"{line.sim_id} sc{line.scene_index + 1} {who}{line.text}"
    return printable(text).replace("\n", " ")


def retry_line(w: RetryWarning) -> str:
    who = f"/{w.agent}" if w.agent else ""
    return printable(
        f"{w.sim_id} {w.purpose}{who} {w.attempt}/{w.max_attempts} {w.error_class}: "
        f"{w.reason[:120]}"
    ).replace("\n", " ")


class BatchScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Transcript", show=True),
        Binding("c", "cancel", "Cancel"),
        Binding("C", "cancel_all", "Cancel all"),
        Binding("r", "rerun", "Rerun"),
        Binding("R", "rerun_failed", "Rerun failed"),
        Binding("slash", "filter", "Filter"),
        Binding("d", "toggle_dialogue", "Dialogue sel/all"),
        Binding("s", "sort", "Sort"),
        Binding("e", "export", "Export"),
        Binding("a", "analytics", "Analytics"),
        Binding("o", "runs", "Runs", show=False),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self, session: Session, pace: Pace, out_dir: Path) -> None:
        """``out_dir`` is where an export goes when the session has no run directory."""
        super().__init__()
        self.session = session
        self.pace = pace
        self.out_dir = out_dir
        self.dialogue_all = True
        self._last_dialogue: DialogueLine | None = None
        self._last_retry: RetryWarning | None = None
        self._dialogue_for: str | None = None
        self._rate = CallRate()
        self._ticks = 0
        self._panel_at = -PANEL_EVERY_S
        self._seen_version = -1
        self.sort_columns = ["id", "state", "scene", "commit", "retries", "tokens", "elapsed"]

    def compose(self) -> ComposeResult:
        yield BatchHeader(id="batch-header")
        yield SimTable(id="sims")
        yield Input(placeholder="filter by text and/or state (e.g. 'failed aiko'); enter closes",
                    id="filter")
        with Horizontal(id="panels"):
            with Vertical(id="dialogue-box"):
                yield Static("dialogue: all simulations", id="dialogue-title",
                             classes="panel-title")
                yield Log(id="dialogue", max_lines=LOG_LINES)
            with Vertical(id="retries-box"):
                yield Static("retry warnings", id="retries-title",
                             classes="panel-title")
                yield Log(id="retries", max_lines=LOG_LINES)
            yield CommitmentPanel(id="commitment")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(SimTable).focus()
        self._interval = 1 / self.pace.refresh_hz(self.session.state.total)
        self._timer = self.set_interval(self._interval, self.tick)
        self.tick()

    # -- refresh -------------------------------------------------------------------------------

    def now(self) -> float | None:
        return self.pace.now()

    def tick(self) -> None:
        """Pull changes from state into widgets. The only place widgets are updated."""
        state = self.session.state
        now = self.now()
        self._ticks += 1
        rate = None if now is None else self._rate.sample(now, state.calls)
        if state.finished_at is not None or not self.session.running:
            rate = None if now is None else 0.0 if self.session.live_mode else None
        note = ""
        if self.session.error:
            note = f"run stopped: {self.session.error}"
        elif self.session.live_mode and not self.session.running and state.total:
            note = "batch finished" if state.done >= state.total else "batch stopped (resumable)"
        self.query_one(BatchHeader).update(header_text(
            state, title=self.session.title, model=self.session.model, now=now,
            calls_per_s=rate, live=self.session.live_mode, note=note,
        ), layout=False)  # fixed height: a layout pass per tick would cost ~10× the paint
        table = self.query_one(SimTable)
        table.sync(state, now)
        self._sync_dialogue(table.selected_id)
        fresh, self._last_retry = new_items(state.recent_retries, self._last_retry)
        if fresh:
            self.query_one("#retries", Log).write_lines([retry_line(w) for w in fresh])
        # The commitment panel folds over every row: about once a second is plenty.
        mono = time.monotonic()
        due = mono - self._panel_at >= PANEL_EVERY_S or not self.session.running
        if state.version != self._seen_version and due:
            self._seen_version, self._panel_at = state.version, mono
            self.query_one(CommitmentPanel).update(commitment_text(state), layout=False)
        # Slow down when the batch grows (the timer interval is chosen from its size).
        want = 1 / self.pace.refresh_hz(state.total)
        if abs(self._interval - want) > 1e-6:
            self._interval = want
            self._timer.stop()
            self._timer = self.set_interval(want, self.tick)

    def _sync_dialogue(self, selected: str | None) -> None:
        log = self.query_one("#dialogue", Log)
        lines = self.session.state.recent_dialogue
        target = None if self.dialogue_all else selected
        if target != self._dialogue_for:
            # The source changed (mode or selection): rewrite from the bounded deque.
            self._dialogue_for = target
            log.clear()
            self._last_dialogue = None
            title = "dialogue: all simulations" if target is None else f"dialogue: {target}"
            self.query_one("#dialogue-title", Static).update(Text(printable(title)),
                                                             layout=False)
        fresh, self._last_dialogue = new_items(lines, self._last_dialogue)
        if target is not None:
            fresh = [d for d in fresh if d.sim_id == target]
        if fresh:
            log.write_lines([dialogue_line(d) for d in fresh])

    # -- actions -------------------------------------------------------------------------------

    def _selected(self) -> str | None:
        return self.query_one(SimTable).selected_id

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value)
        self.query_one(SimTable).sort_by(column, self.session.state, self.now())

    def action_open(self) -> None:
        sim_id = self._selected()
        if sim_id is None:
            return
        self.post_message(OpenSimulation(self.session, sim_id))

    def action_sort(self) -> None:
        table = self.query_one(SimTable)
        current = table.sort_column
        nxt = self.sort_columns[(self.sort_columns.index(current) + 1) % len(self.sort_columns)] \
            if current in self.sort_columns else self.sort_columns[0]
        table.sort_by(nxt, self.session.state, self.now())
        self.notify(f"sorted by {nxt}", timeout=1.5)

    def _need_live(self) -> bool:
        if not self.session.live_mode:
            self.notify("read-only run: resume or rerun it with `relsim resume`/`relsim rerun`",
                        severity="warning")
            return False
        return True

    def action_cancel(self) -> None:
        sim_id = self._selected()
        if sim_id is None or not self._need_live():
            return
        if self.session.cancel(sim_id):
            self.notify(f"cancelling {sim_id}", timeout=2)
        else:
            self.notify(f"{sim_id} has already ended", severity="warning")

    @work(exclusive=False, group="commands")
    async def action_cancel_all(self) -> None:
        if not self._need_live():
            return
        if await self.app.push_screen_wait(ConfirmScreen("Cancel every unfinished simulation?")):
            self.session.cancel_all()
            self.notify("cancelling all", timeout=2)

    def action_rerun(self) -> None:
        sim_id = self._selected()
        if sim_id is None or not self._need_live():
            return
        if self.session.rerun([sim_id]):
            self.notify(f"rerunning {sim_id}", timeout=2)
        else:
            self.notify(f"{sim_id} has not ended yet", severity="warning")

    @work(exclusive=False, group="commands")
    async def action_rerun_failed(self) -> None:
        if not self._need_live():
            return
        failed = [r.sim_id for r in self.session.state.rows.values() if r.state == "failed"]
        if not failed:
            self.notify("no failed simulations")
            return
        question = f"Rerun {len(failed)} failed simulation(s)?"
        if await self.app.push_screen_wait(ConfirmScreen(question)):
            queued = self.session.rerun(None)
            self.notify(f"rerunning {len(queued)} failed", timeout=2)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            table = self.query_one(SimTable)
            table.filter = row_filter(event.value)
            table.rebuild(self.session.state, self.now())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self._close_filter()

    def _close_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.value:
            box.display = False
        self.query_one(SimTable).focus()

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus:
            self._close_filter()
        elif box.value:
            box.value = ""  # clears the filter (Changed rebuilds the table)
            box.display = False
        elif not self.session.live_mode and len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_toggle_dialogue(self) -> None:
        self.dialogue_all = not self.dialogue_all
        self._sync_dialogue(self._selected())

    def action_runs(self) -> None:
        self.post_message(ShowRuns())

    def action_analytics(self) -> None:
        from tui.screens.analytics import AnalyticsScreen

        self.app.push_screen(AnalyticsScreen(self.session))

    def action_export(self) -> None:
        path = export_commitments(self.session, self.out_dir)
        self.notify(f"commitment table written to {path}", timeout=4)


def export_commitments(session: Session, out_dir: Path) -> Path:
    """Write one CSV row per simulation × scene with both partners' scores."""
    base = session.run_dir or out_dir
    base.mkdir(parents=True, exist_ok=True)
    path = base / "commitment_table.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sim_id", "replicate", "state", "partner_a", "partner_b", "scene",
                    "score_a", "score_b"])
        for row in session.state.rows.values():
            a, b = row.agents
            ta, tb = row.trajectory.get(a, []), row.trajectory.get(b, [])
            for i in range(max(len(ta), len(tb))):
                w.writerow([row.sim_id, row.replicate, row.state, a, b, i + 1,
                            ta[i] if i < len(ta) else "", tb[i] if i < len(tb) else ""])
    return path
