"""Drill-in: one simulation's full transcript (following live), its commitment trajectory and
its call/usage stats. The same code serves a live simulation and one read from the run log."""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.events import CallCompleted, CallFailed, EventBase, RetryWarning
from engine.present.format import count, duration, safe
from tui.pace import Pace
from tui.session import Session, event_key, new_items
from tui.widgets.plot import TrajectoryPlot, trajectory_plot
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
        self.events_shown = 0
        self._row_version = -1

    def compose(self) -> ComposeResult:
        yield Static(id="sim-header")
        with Horizontal(id="sim-body"):
            yield Transcript(id="transcript")
            with Vertical(id="sim-side"):
                yield TrajectoryPlot(id="plot")
                yield Static(id="sim-stats")
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
        for event in events:
            self.stats.add(event)
        self.query_one(Transcript).add(events)
        self.events_shown += len(events)

    def tick(self) -> None:
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
        header.append_text(state_text(row))
        header.append(f"  scene {row.scene}/{row.num_scenes}  retries {row.retries}  "
                      f"tokens {count(row.tokens)}")
        now = self.pace.now()
        if now is not None and row.started_at is not None:
            header.append(f"  elapsed {duration((row.ended_at or now) - row.started_at)}")
        self.query_one("#sim-header", Static).update(header, layout=False)
        if row.version != self._row_version:
            self._row_version = row.version
            plot = trajectory_plot(row.trajectory, row.agents)
            self.query_one("#plot", TrajectoryPlot).update(plot)
            self.query_one("#sim-stats", Static).update(self.stats.text(clock=not self.pace.frozen))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_follow(self) -> None:
        log = self.query_one(Transcript)
        log.auto_scroll = True
        log.scroll_end(animate=False)

    def action_cancel(self) -> None:
        if self.session.live_mode and self.session.cancel(self.sim_id):
            self.notify(f"cancelling {self.sim_id}", timeout=2)

    def action_rerun(self) -> None:
        if not self.session.live_mode:
            self.notify("read-only run", severity="warning")
        elif self.session.rerun([self.sim_id]):
            self.notify(f"rerunning {self.sim_id}", timeout=2)
        else:
            self.notify(f"{self.sim_id} has not ended yet", severity="warning")
