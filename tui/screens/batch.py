"""The main screen: header, the simulations table, live dialogue, retry warnings and the
batch's commitment picture, all refreshed from ``BatchState`` on one timer."""

from __future__ import annotations

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
from engine.errors import RelsimError
from engine.events import RetryWarning
from engine.present.format import safe
from engine.present.rate import CallRate
from engine.textsafe import printable
from tui.messages import OpenSimulation, ShowRuns
from tui.pace import Pace
from tui.screens.modals import ConfirmScreen, TextScreen
from tui.session import Session, new_items
from tui.widgets.commitment import CommitmentPanel, commitment_text
from tui.widgets.header import BatchHeader, header_text
from tui.widgets.relstate import state_panel_text
from tui.widgets.sim_table import COLUMNS, SimTable

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


def retry_line(w: RetryWarning, limit: int | None = 120) -> str:
    """One warning on one line; ``limit`` cuts the reason with an ellipsis (None: whole)."""
    who = f"/{w.agent}" if w.agent else ""
    reason = w.reason if limit is None or len(w.reason) <= limit else w.reason[: limit - 1] + "…"
    return printable(
        f"{w.sim_id} {w.purpose}{who} {w.attempt}/{w.max_attempts} {w.error_class}: {reason}"
    ).replace("\n", " ")


# Actions that need something to act on, and the sessions they apply to (see check_action).
LIVE_ONLY = {"cancel", "cancel_all"}


class BatchScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Transcript", show=True),
        Binding("c", "cancel", "Cancel"),
        Binding("C", "cancel_all", "Cancel all"),
        Binding("r", "rerun", "Rerun"),
        Binding("R", "rerun_failed", "Rerun failed"),
        Binding("u", "resume", "Resume"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("S", "sort_flip", "Flip sort", show=False),
        Binding("d", "toggle_dialogue", "Dialogue sel/all", show=False),
        Binding("w", "warnings", "Warnings", show=False),
        Binding("e", "export", "Export", show=False),
        Binding("a", "analytics", "Analytics", show=False),
        Binding("o", "runs", "Runs", show=False),
        Binding("escape", "back", "Back", show=False),
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
        self._state_for: tuple[str | None, int] = (None, -1)
        self._state_lines = 0
        self._actions_seen: tuple[bool, ...] = ()
        self._table_height = -1
        self.sort_columns = [key for key, _, _ in COLUMNS]

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
                yield Static("retry warnings (w: read whole)", id="retries-title",
                             classes="panel-title")
                yield Log(id="retries", max_lines=LOG_LINES)
            with Vertical(id="side-box"):
                yield Static(id="rel-state")
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
        session = self.session
        if not session.live_mode:
            session.poll()  # a run another process may be writing: follow its log
        state = session.state
        now = self.now()
        self._ticks += 1
        rate = None if now is None else self._rate.sample(now, state.calls)
        steady = self._rate.steady
        if state.finished_at is not None or not (session.running or session.following):
            rate = steady = None
            if now is not None and session.live_mode:
                rate = 0.0
        note = ""
        if session.error:
            note = f"run stopped: {session.error}"
        elif session.draining:
            note = "draining… (running simulations stop after their scene)"
        elif session.live_mode and not session.running and state.total:
            note = "batch finished" if state.done >= state.total else "batch stopped (resumable)"
        mode = ""
        if session.following:
            mode = "following: another process writes this run"
        self.query_one(BatchHeader).update(header_text(
            state, title=session.title, model=session.model, now=now,
            calls_per_s=rate, live=session.live_mode, note=note, steady_rate=steady, mode=mode,
        ), layout=False)  # fixed height: a layout pass per tick would cost ~10× the paint
        table = self.query_one(SimTable)
        table.sync(state, now)
        self._fit_table()
        selected = table.selected_id
        self._sync_dialogue(selected)
        self._sync_state_panel(selected)
        fresh, self._last_retry = new_items(state.recent_retries, self._last_retry)
        if fresh:
            self.query_one("#retries", Log).write_lines([retry_line(w) for w in fresh])
        # The commitment panel folds over every row: about once a second is plenty.
        mono = time.monotonic()
        due = mono - self._panel_at >= PANEL_EVERY_S or not session.running
        if state.version != self._seen_version and due:
            self._seen_version, self._panel_at = state.version, mono
            self._update_commitment()
        self._refresh_footer()
        # Slow down when the batch grows (the timer interval is chosen from its size).
        want = 1 / self.pace.refresh_hz(state.total)
        if abs(self._interval - want) > 1e-6:
            self._interval = want
            self._timer.stop()
            self._timer = self.set_interval(want, self.tick)

    def on_resize(self) -> None:
        self._fit_table()

    def _fit_table(self) -> None:
        """Give the table the lines its rows need, up to 65 % of the room below the header
        (at least 4); the panels get the rest. Changes only when the row count or the
        terminal does, so it costs no layout pass on an ordinary tick."""
        table = self.query_one(SimTable)
        room = self.size.height - 4  # header (3) and footer (1)
        # rows + the header line + a horizontal scrollbar's line (columns outgrow a narrow
        # terminal)
        want = max(4, min(table.row_count + 2, int(room * 0.65)))
        if want != self._table_height:
            self._table_height = want
            table.styles.height = want

    def _update_commitment(self) -> None:
        table = self.query_one(SimTable)
        rows = table.matching_rows(self.session.state) if table.filter else \
            self.session.state.rows.values()
        self.query_one(CommitmentPanel).update(
            commitment_text(rows, filtered=table.filter is not None), layout=False)

    def _sync_state_panel(self, selected: str | None) -> None:
        row = self.session.state.rows.get(selected) if selected else None
        key = (selected, row.version if row is not None else -1)
        if key != self._state_for:
            self._state_for = key
            text = state_panel_text(row)
            # Re-layout only when the panel's height changes (a first state, another
            # selection): its height is its content's, and a layout pass costs a repaint.
            lines = len(text.plain.splitlines())
            self.query_one("#rel-state", Static).update(text, layout=lines != self._state_lines)
            self._state_lines = lines

    def _refresh_footer(self) -> None:
        """Actions come and go with the session (check_action): refresh the footer only when
        the set of applicable actions changes."""
        seen = tuple(bool(self.check_action(a, ())) for a in
                     ("cancel", "cancel_all", "rerun", "rerun_failed", "resume"))
        if seen != self._actions_seen:
            self._actions_seen = seen
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide actions that cannot apply: cancelling when nothing runs, rerunning what has not
        ended, resuming a run with nothing unfinished or that another process is writing."""
        session = self.session
        state = session.state
        if action in ("cancel", "cancel_all"):
            if not session.running:
                return False
            if action == "cancel":
                row = state.rows.get(self._selected() or "")
                return row is None or row.state in ("pending", "running", "waiting")
            return True
        if action in ("rerun", "rerun_failed", "resume"):
            if session.following or session.draining:
                return False
            if action == "resume":
                return not session.live_mode and bool(session.resumable)
            if action == "rerun_failed":
                return any(r.state in ("failed", "cancelled") for r in state.rows.values())
            row = state.rows.get(self._selected() or "")
            return row is None or row.state in ("completed", "failed", "cancelled")
        return True

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
        """Sort by the next column (ascending); ``S`` flips the direction."""
        table = self.query_one(SimTable)
        current = table.sort_column
        nxt = self.sort_columns[(self.sort_columns.index(current) + 1) % len(self.sort_columns)] \
            if current in self.sort_columns else self.sort_columns[0]
        table.sort_by(nxt, self.session.state, self.now(), reverse=False)
        self.notify(f"sorted by {nxt} ▲ (S flips)", timeout=1.5)

    def action_sort_flip(self) -> None:
        table = self.query_one(SimTable)
        column = table.sort_column or self.sort_columns[0]
        table.sort_by(column, self.session.state, self.now(), reverse=not table.sort_reverse
                      if table.sort_column else True)

    def _can_take_over(self) -> bool:
        """A past run becomes live for resume/rerun, unless another process holds it."""
        if self.session.live_mode:
            return True
        if self.session.following:
            self.notify("another process is writing this run", severity="warning")
            return False
        return True

    def _went_live(self) -> None:
        # The session now has the runner's state: re-list the rows from it.
        table = self.query_one(SimTable)
        table.rebuild(self.session.state, self.now())
        self._last_retry = self._last_dialogue = None
        self._dialogue_for = "-"  # force the dialogue panel to re-read
        self._seen_version = -1
        self.refresh_bindings()

    def _session_call(self, fn: Any, *args: Any) -> Any:
        was_live = self.session.live_mode
        try:
            result = fn(*args)
        except (RelsimError, OSError) as exc:
            self.notify(f"cannot take over the run: {exc}", severity="error", markup=False)
            return None
        if not was_live and self.session.live_mode:
            self._went_live()
        return result

    def action_cancel(self) -> None:
        sim_id = self._selected()
        if sim_id is None or not self.session.live_mode:
            return
        if self.session.cancel(sim_id):
            self.notify(f"cancelling {sim_id}", timeout=2)
        else:
            self.notify(f"{sim_id} has already ended", severity="warning")

    @work(exclusive=False, group="commands")
    async def action_cancel_all(self) -> None:
        if not self.session.running:
            self.notify("nothing is running")
            return
        if await self.app.push_screen_wait(ConfirmScreen("Cancel every unfinished simulation?")):
            self.session.cancel_all()
            self.notify("cancelling all", timeout=2)

    @work(exclusive=False, group="commands")
    async def action_rerun(self) -> None:
        sim_id = self._selected()
        if sim_id is None or not self._can_take_over():
            return
        row = self.session.state.rows.get(sim_id)
        if row is not None and row.state == "completed":
            question = f"{sim_id} completed. Rerun it as a new attempt?"
            if not await self.app.push_screen_wait(ConfirmScreen(question)):
                return
        queued = self._session_call(self.session.rerun, [sim_id])
        if queued:
            self.notify(f"rerunning {sim_id}", timeout=2)
        elif queued is not None:
            self.notify(f"{sim_id} has not ended yet", severity="warning")

    @work(exclusive=False, group="commands")
    async def action_rerun_failed(self) -> None:
        if not self._can_take_over():
            return
        ended = [r.sim_id for r in self.session.state.rows.values()
                 if r.state in ("failed", "cancelled")]
        if not ended:
            self.notify("no failed or cancelled simulations")
            return
        question = f"Rerun {len(ended)} failed or cancelled simulation(s)?"
        if await self.app.push_screen_wait(ConfirmScreen(question)):
            queued = self._session_call(self.session.rerun, ended)
            if queued is not None:
                self.notify(f"rerunning {len(queued)}", timeout=2)

    def action_resume(self) -> None:
        if not self._can_take_over():
            return
        queued = self._session_call(self.session.resume)
        if queued is not None:
            self.notify(f"resuming {queued} unfinished simulation(s)", timeout=3)

    def action_warnings(self) -> None:
        """The retry warnings, whole (for the selected simulation when the dialogue follows it,
        else the batch's most recent)."""
        target = None if self.dialogue_all else self._selected()
        warnings = [w for w in self.session.state.recent_retries
                    if target is None or w.sim_id == target]
        body = Text()
        for w in warnings:
            body.append_text(safe(retry_line(w, limit=None), "yellow"))
            body.append("\n")
        if not warnings:
            body.append("no retry warnings", style="dim")
        title = f"retry warnings ({len(warnings)}{', ' + target if target else ''})"
        self.app.push_screen(TextScreen(title, body))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            table = self.query_one(SimTable)
            table.filter = row_filter(event.value)
            table.rebuild(self.session.state, self.now())
            self._update_commitment()  # aggregates follow the filter

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
        elif len(self.app.screen_stack) > 2:
            # Back to the launch form or the runs list; a live batch keeps running.
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
        """The same long rows as ``relsim export`` (one per simulation × scene × partner,
        0-based ``scene_index``), as CSV in the run directory."""
        from engine.batch.export import export_run

        if self.session.run_dir is None:
            self.notify("this batch has no run directory yet", severity="warning")
            return
        path = self.session.run_dir / "export.csv"
        try:
            n, _ = export_run(self.session.run_dir, path, "csv")
        except (RelsimError, OSError) as exc:
            self.notify(f"export failed: {exc}", severity="error", markup=False)
            return
        self.notify(f"{n} rows written to {path}", timeout=4, markup=False)
