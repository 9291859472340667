"""Console output of the ``relsim`` commands: the live progress line, run summaries, tables.

Figures come from ``engine.present.format`` and ``engine.present.rate`` (as on the dashboard).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.batch.state import BatchState
from engine.present.format import STATE_STYLE, bar, cached_share, count, duration, safe
from engine.present.rate import CallRate, eta, progress

if TYPE_CHECKING:
    from engine.sim.records import CommitmentEntry

PER_SIM_TABLE_MAX = 40


class ProgressLine:
    """The live progress of a running batch, from its state (sampled on a timer): a bar over
    the calls done of the calls planned, then scenes, simulations and rates."""

    def __init__(self, state: BatchState, width: int = 24) -> None:
        self.state = state
        self.rate = CallRate()
        self.width = width

    def render(self, now: float | None = None) -> Text:
        st = self.state
        now = time.time() if now is None else now
        rate = self.rate.sample(now, st.calls)
        prog = progress(st)
        c = st.counts
        text = Text()
        text.append(bar(prog.fraction, self.width).replace(" ", "░"), style="cyan")
        text.append(f" {prog.fraction * 100:3.0f}%  ", style="bold")
        text.append(f"calls {count(prog.calls_done)}/{count(prog.calls_planned)}  "
                    f"scenes {prog.scenes_done}/{prog.scenes_total}  "
                    f"sims {st.done}/{st.total} (✔ {c['completed']} ✖ {c['failed']}")
        if c["cancelled"]:
            text.append(f" cancelled {c['cancelled']}")
        text.append(")")
        running = f"  running {c['running'] + c['waiting']}"
        if c["waiting"]:
            running += f" (waiting {c['waiting']})"
        text.append(running)
        text.append(f"  retries {st.retries}")
        if st.repairs:
            text.append(f"  repairs {st.repairs}")
        if st.fallbacks:
            text.append(f"  fallbacks {st.fallbacks}")
        text.append(f"  tokens {count(st.tokens)}  {rate:.1f} calls/s  "
                    f"ETA {duration(eta(st, self.rate.steady, prog))}")
        if st.draining:
            text.append("  draining…", style="bold yellow")
        return text

    def text(self, now: float | None = None) -> str:
        return self.render(now).plain


def stdout_console() -> Console:
    """stdout; when it is a pipe or file, wide enough that tables keep whole values."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=200)


def print_table(
    console: Console, rows: list[dict[str, Any]], columns: list[str], *, title: str | None = None
) -> None:
    """Rows of plain values; every cell is shown literally."""
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(safe(str(row.get(c, ""))) for c in columns))
    console.print(table)


def print_commitment_log(
    console: Console, log: Sequence[CommitmentEntry], styles: Sequence[str] = ()
) -> None:
    """One row per scene: the turning point and each partner's score."""
    if not log:
        return
    names = list(log[0].commitments)
    table = Table(title="Commitment log")
    table.add_column("#", justify="right")
    table.add_column("Turning point")
    for k, name in enumerate(names):
        table.add_column(safe(name), justify="right", style=styles[k] if k < len(styles) else "")
    for entry in log:
        table.add_row(str(entry.scene_index + 1), safe(entry.turning_point.title),
                      *(str(entry.score_of(n)) for n in names))
    console.print(table)


def print_summary(
    state: BatchState,
    console: Console,
    *,
    run_dir: str | None = None,
    limit: int = PER_SIM_TABLE_MAX,
) -> None:
    """The per-simulation table (up to ``limit`` rows) and the batch's totals."""
    c = state.counts
    if state.total <= limit:
        table = Table(title="Simulations", title_justify="left")
        for name, justify in (("sim", "left"), ("pair", "left"), ("state", "left"),
                              ("try", "right"), ("scenes", "right"), ("commitment", "left"),
                              ("retries", "right"), ("note", "left")):
            table.add_column(name, justify=justify, no_wrap=name != "note",  # type: ignore[arg-type]
                             overflow="ellipsis")
        for row in state.rows.values():
            scores = " / ".join(
                f"{row.latest(a) if row.latest(a) is not None else '–'}" for a in row.agents
            )
            table.add_row(
                row.sim_id, safe(row.pair), Text(row.state, style=STATE_STYLE.get(row.state, "")),
                str(row.attempt), f"{row.scene}/{row.num_scenes}", scores, str(row.retries),
                safe((row.reason or "")[:60]),
            )
        console.print(table)
    summary = Table(title="Batch", title_justify="left", show_header=False)
    summary.add_column()
    summary.add_column(justify="right")
    for name in ("completed", "failed", "cancelled", "pending", "running", "waiting"):
        if c[name] or name in ("completed", "failed"):
            summary.add_row(name, str(c[name]))
    summary.add_row("model calls", str(state.calls))
    summary.add_row("retries", str(state.retries))
    summary.add_row("repairs", str(state.repairs))
    summary.add_row("fallbacks", str(state.fallbacks))
    summary.add_row("tokens", count(state.tokens))
    if state.cached_prompt_tokens:
        summary.add_row("cached prompt", cached_share(state.prompt_tokens,
                                                      state.cached_prompt_tokens))
    if state.embeddings_note:
        summary.add_row("embeddings", "local (the endpoint has none)")
    end = state.finished_at or time.time()
    summary.add_row("wall time", f"{end - state.started_at:.1f} s")
    console.print(summary)
    if run_dir:
        console.print(safe(f"run directory: {run_dir}"), soft_wrap=True)
