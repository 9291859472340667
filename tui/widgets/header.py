"""The batch header: counts by state, rates, tokens, clock and endpoints, as one Static."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from engine.batch.state import STATES, BatchState
from engine.present.format import (
    STATE_STYLE,
    cached_share,
    count,
    duration,
    model_label,
    safe,
)
from engine.present.rate import eta, progress


def header_text(
    state: BatchState,
    *,
    title: str,
    model: str,
    now: float | None,
    calls_per_s: float | None,
    live: bool,
    note: str = "",
    steady_rate: float | None = None,
    mode: str = "",
) -> Text:
    """Two or three lines of batch status. ``now`` None hides clock-dependent figures."""
    text = Text()
    text.append_text(safe(title, "bold"))
    text.append(f"  {model_label(model)}", style="dim")
    if mode:
        text.append(f"  ({mode})", style="italic dim")
    elif not live:
        text.append("  (read-only: from the run log)", style="italic dim")
    if note:
        text.append("  ")
        text.append_text(safe(note, "bold yellow"))
    if state.embeddings_note:
        text.append("  ")
        text.append_text(safe(state.embeddings_note, "yellow"))
    text.append("\n")
    for name in STATES:
        text.append(f"{name} ", style="dim")
        text.append(f"{state.counts[name]}", style=STATE_STYLE[name])
        text.append("  ")
    text.append(f"of {state.total}", style="dim")
    text.append("\n")
    rate = "--" if calls_per_s is None else f"{calls_per_s:.0f}"
    prog = progress(state)
    text.append(f"calls {count(prog.calls_done)}/{count(prog.calls_planned)}  "
                f"scenes {prog.scenes_done}/{prog.scenes_total}  calls/s {rate}  ")
    text.append(f"retries {state.retries}", style="yellow" if state.retries else "")
    if state.repairs:
        text.append(f"  repairs {state.repairs}", style="yellow")
    if state.fallbacks:  # narrow terminals: room for the clock and ETA
        text.append(f"  fallbacks {state.fallbacks}", style="yellow")
    text.append(f"  tokens {count(state.tokens)}  ")
    if state.cached_prompt_tokens:
        text.append(f"cached {cached_share(state.prompt_tokens, state.cached_prompt_tokens)}  ")
    if state.cost_usd:
        text.append(f"cost ${state.cost_usd:,.4f}  ")
    if now is None:
        text.append("elapsed --  ETA --")
    else:
        elapsed = (state.finished_at or now) - state.started_at
        text.append(f"elapsed {duration(elapsed)}  "
                    f"ETA {duration(eta(state, steady_rate, prog))}")
    for ep in state.endpoints.values():
        text.append("  │ ", style="dim")
        text.append_text(safe(ep.endpoint))
        text.append(f" {ep.in_flight}/{ep.limit} ")
        style = {"closed": "green", "open": "bold red", "half_open": "yellow"}.get(ep.breaker, "")
        text.append(ep.breaker, style=style)
        if ep.limit_reason:  # why the limit is what it is (server slots, queueing, rate limited)
            text.append_text(safe(f" limit: {ep.limit_reason}", "dim"))
    return text


class BatchHeader(Static):
    """Rendered from state by the screen's timer (never per event)."""

    DEFAULT_CSS = "BatchHeader { height: 3; }"
