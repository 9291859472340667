"""Drill-in: one simulation's full transcript (following live), its commitment trajectory and
its call/usage stats. The same code serves a live simulation and one read from the run log."""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.errors import RelsimError
from engine.events import (
    AfterActionReported,
    CallCompleted,
    CallFailed,
    EventBase,
    RetryWarning,
    SimulationCompleted,
    SimulationStarted,
    StateInferred,
)
from engine.present.format import count, duration, safe, scene_label
from engine.present.transcript import report_lines
from tui.pace import Pace
from tui.screens.modals import ConfirmScreen
from tui.session import Session, event_key, new_items
from tui.widgets.plot import TrajectoryPlot, trajectory_plot
from tui.widgets.relstate import state_table_text
from tui.widgets.sim_table import state_text
from tui.widgets.transcript import Transcript


class CallStats:
    """Per-purpose call accounting folded from this simulation's events."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.latency = 0.0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.retries = 0
        self.failed = 0
        self.fallbacks = 0

    def add(self, event: EventBase) -> None:
        if isinstance(event, CallCompleted):
            self.calls[event.purpose] += 1
            self.latency += event.latency_s
            self.prompt_tokens += event.prompt_tokens
            self.completion_tokens += event.completion_tokens
            self.fallbacks += event.fallback
        elif isinstance(event, RetryWarning):
            self.retries += 1
        elif isinstance(event, CallFailed):
            self.failed += 1

    def text(self, clock: bool = True) -> Text:
        """``clock`` False hides measured time (latency), as a frozen dashboard does."""
        n = sum(self.calls.values())
        t = Text()
        t.append("calls & usage\n", style="bold")
        t.append(f"  calls {n}  retries {self.retries}  failed {self.failed}  "
                 f"fallbacks {self.fallbacks}\n")
        t.append(f"  tokens {count(self.prompt_tokens)} in / {count(self.completion_tokens)} out\n")
        if n:
            latency = f"{self.latency / n * 1000:.0f} ms" if clock else "--"
            t.append(f"  mean latency {latency}\n")
        for purpose, k in sorted(self.calls.items(), key=lambda kv: -kv[1])[:10]:
            t.append(f"  {purpose:<18}{k:>5}\n", style="dim")
        return t


class SceneStates:
    """The relationship state per scene, the outcome and the after-action report, folded from
    this simulation's events (a new attempt starts them again)."""

    def __init__(self) -> None:
        self.per_scene: dict[int, dict[str, str]] = {}
        self.outcome: str | None = None
        self.report: AfterActionReported | None = None

    def add(self, event: EventBase) -> bool:
        """Fold one event; True if what is shown changed."""
        if isinstance(event, StateInferred):
            self.per_scene[event.scene_index] = {
                k: str(v.get("value", "?")) for k, v in event.state.items()}
        elif isinstance(event, SimulationStarted) and not event.start_scene:
            self.per_scene, self.outcome, self.report = {}, None, None
        elif isinstance(event, SimulationCompleted):
            self.outcome = event.outcome
        elif isinstance(event, AfterActionReported):
            self.report = event
        else:
            return False
        return True

    def text(self, width: int) -> Text:
        t = state_table_text(self.per_scene, width)
        t.append("outcome ", style="bold")
        t.append_text(safe(self.outcome or "—", "bold" if self.outcome else "dim"))
        t.append("\n")
        if self.report is not None:
            t.append("\n")
            lines = report_lines(self.report)
            t.append_text(safe(lines[0], "bold"))
            t.append("\n")
            for line in lines[1:]:
                t.append_text(safe(line))
                t.append("\n")
        return t


class SimulationScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,b", "back", "Back"),
        Binding("c", "cancel", "Cancel"),
        Binding("r", "rerun", "Rerun"),
        Binding("end", "follow", "Follow"),
    ]

    def __init__(self, session: Session, sim_id: str, pace: Pace) -> None:
        super().__init__()
        self.session = session
        self.pace = pace
        self.sim_id = sim_id
        self._last: EventBase | None = None  # newest event of session.recent looked at
        self._disk_keys: set[tuple[object, ...]] = set()
        self.stats = CallStats()
        self.states = SceneStates()
        self.events_shown = 0
        self._row_version = -1

    def compose(self) -> ComposeResult:
        yield Static(id="sim-header")
        with Horizontal(id="sim-body"):
            yield Transcript(id="transcript")
            with VerticalScroll(id="sim-side"):
                yield TrajectoryPlot(id="plot")
                yield Static(id="sim-stats")
                yield Static(id="sim-state")
        yield Footer()

    def on_mount(self) -> None:
        # History = the run log + the session's recent events not yet on disk. Later events
        # are picked up from session.recent on each tick (one subscription for the whole app).
        self._last = self.session.recent[-1] if self.session.recent else None
        history, self._disk_keys = self.session.events(self.sim_id)
        self._add(history)
        self.tick()
        self.set_interval(1 / self.pace.refresh_hz(0), self.tick)

    def _add(self, events: list[EventBase]) -> None:
        changed = False
        for event in events:
            self.stats.add(event)
            changed = self.states.add(event) or changed
        self.query_one(Transcript).add(events)
        self.events_shown += len(events)
        if changed or not self.events_shown:
            self._show_states()

    def _show_states(self) -> None:
        panel = self.query_one("#sim-state", Static)
        panel.update(self.states.text(max(30, panel.size.width or 46)))

    def on_resize(self) -> None:
        self._show_states()

    def tick(self) -> None:
        if not self.session.live_mode:
            self.session.poll()  # follow a run another process writes
        fresh, self._last = new_items(self.session.recent, self._last)
        fresh = [e for e in fresh
                 if e.sim_id == self.sim_id and event_key(e) not in self._disk_keys]
        if fresh:
            self._add(fresh)
            self.query_one("#sim-stats", Static).update(self.stats.text(clock=not self.pace.frozen))
        row = self.session.state.rows.get(self.sim_id)
        if row is None:
            return
        header = Text()
        header.append_text(safe(f"{row.sim_id}  {row.pair}", "bold"))
        header.append("  ")
        header.append_text(state_text(row, width=None))
        scene = scene_label(row.scene, row.num_scenes, row.state, row.current_scene)
        header.append(f"  scene {scene}  retries {row.retries}  tokens {count(row.tokens)}")
        now = self.pace.now()
        if now is not None and row.started_at is not None:
            header.append(f"  elapsed {duration((row.ended_at or now) - row.started_at)}")
        self.query_one("#sim-header", Static).update(header, layout=False)
        if row.version != self._row_version:
            self._row_version = row.version
            self.refresh_bindings()  # cancel/rerun come and go with the state
            plot = trajectory_plot(row.trajectory, row.agents)
            self.query_one("#plot", TrajectoryPlot).update(plot)
            self.query_one("#sim-stats", Static).update(self.stats.text(clock=not self.pace.frozen))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_follow(self) -> None:
        log = self.query_one(Transcript)
        log.auto_scroll = True
        log.scroll_end(animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel only while it runs; rerun only once it has ended (never on a run another
        process is writing)."""
        row = self.session.state.rows.get(self.sim_id)
        if action == "cancel":
            return self.session.running and row is not None and \
                row.state in ("pending", "running", "waiting")
        if action == "rerun":
            return not self.session.following and row is not None and \
                row.state in ("completed", "failed", "cancelled")
        return True

    def action_cancel(self) -> None:
        if self.session.live_mode and self.session.cancel(self.sim_id):
            self.notify(f"cancelling {self.sim_id}", timeout=2)

    @work(exclusive=False, group="commands")
    async def action_rerun(self) -> None:
        row = self.session.state.rows.get(self.sim_id)
        if row is not None and row.state == "completed":
            question = f"{self.sim_id} completed. Rerun it as a new attempt?"
            if not await self.app.push_screen_wait(ConfirmScreen(question)):
                return
        try:
            queued = self.session.rerun([self.sim_id])
        except (RelsimError, OSError) as exc:
            self.notify(f"cannot take over the run: {exc}", severity="error", markup=False)
            return
        if queued:
            self.notify(f"rerunning {self.sim_id}", timeout=2)
        else:
            self.notify(f"{self.sim_id} has not ended yet", severity="warning")
