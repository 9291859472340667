"""The batch header: counts by state, rates, tokens, clock and endpoints, as one Static."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import Static

from engine.batch.state import STATES, BatchState
from tui.format import count, duration, model_label, safe
from tui.widgets.sim_table import STATE_STYLE


class CallRate:
    """Calls per second over a sliding window of timer samples."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float, calls: int) -> float:
        self._samples.append((now, calls))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window_s:
            self._samples.popleft()
        t0, c0 = self._samples[0]
        return (calls - c0) / (now - t0) if now > t0 else 0.0


def header_text(
    state: BatchState,
    *,
    title: str,
    model: str,
    now: float | None,
    calls_per_s: float | None,
    live: bool,
    note: str = "",
) -> Text:
    """Two or three lines of batch status. ``now`` None hides clock-dependent figures."""
    text = Text()
    text.append_text(safe(title, "bold"))
    text.append(f"  {model_label(model)}", style="dim")
    if not live:
        text.append("  (read-only: from the run log)", style="italic dim")
    if note:
        text.append("  ")
        text.append_text(safe(note, "bold yellow"))
    text.append("\n")
    for name in STATES:
        text.append(f"{name} ", style="dim")
        text.append(f"{state.counts[name]}", style=STATE_STYLE[name])
        text.append("  ")
    text.append(f"of {state.total}", style="dim")
    text.append("\n")
    rate = "--" if calls_per_s is None else f"{calls_per_s:.0f}"
    text.append(f"calls {count(state.calls)}  calls/s {rate}  ")
    text.append(f"retries {state.retries}", style="yellow" if state.retries else "")
    text.append(f"  fallbacks {state.fallbacks}  tokens {count(state.tokens)}  ")
    if state.cost_usd:
        text.append(f"cost ${state.cost_usd:,.4f}  ")
    if now is None:
        text.append("elapsed --  ETA --")
    else:
        end = state.finished_at or now
        elapsed = end - state.started_at
        eta: float | None = None
        if state.finished_at is None and state.done and state.done < state.total:
            eta = elapsed / state.done * (state.total - state.done)
        elif state.total and state.done >= state.total:
            eta = 0.0
        text.append(f"elapsed {duration(elapsed)}  ETA {duration(eta)}")
    for ep in state.endpoints.values():
        text.append("  │ ", style="dim")
        text.append_text(safe(ep.endpoint))
        text.append(f" {ep.in_flight}/{ep.limit} ")
        style = {"closed": "green", "open": "bold red", "half_open": "yellow"}.get(ep.breaker, "")
        text.append(ep.breaker, style=style)
    return text


class BatchHeader(Static):
    """Rendered from state by the screen's timer (never per event)."""

    DEFAULT_CSS = "BatchHeader { height: 3; }"
