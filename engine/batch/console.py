"""Terminal side of headless batch commands: drive a runner with Ctrl-C handling, show live
progress from the coalesced BatchState on a timer (never per event), print summaries and
transcripts. Used by ``relsim run``, ``resume`` and ``rerun``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine.batch.state import BatchState
from engine.events import EventBase
from engine.textsafe import printable
from engine.transcript import TranscriptPrinter

if TYPE_CHECKING:
    from engine.batch.runner import BatchRunner

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
REFRESH_S = 0.25
PLAIN_EVERY_S = 5.0
PER_SIM_TABLE_MAX = 40
STATE_STYLES = {"completed": "green", "failed": "red", "cancelled": "yellow"}


def _fmt_count(n: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(int(n))


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Computes the progress line from BatchState; calls/s over the last few seconds."""

    def __init__(self, state: BatchState) -> None:
        self.state = state
        self.started = time.time()
        self._samples: list[tuple[float, int]] = [(time.monotonic(), state.calls)]

    def line(self) -> str:
        st = self.state
        now = time.monotonic()
        self._samples.append((now, st.calls))
        while len(self._samples) > 2 and now - self._samples[0][0] > 5.0:
            self._samples.pop(0)
        t0, c0 = self._samples[0]
        rate = (st.calls - c0) / (now - t0) if now > t0 else 0.0
        total_scenes = sum(r.num_scenes for r in st.rows.values()) or 1
        done_scenes = sum(
            r.num_scenes if r.state in ("completed", "failed", "cancelled") else r.scene
            for r in st.rows.values()
        )
        elapsed = time.time() - self.started
        eta = elapsed * (total_scenes - done_scenes) / done_scenes if done_scenes else None
        c = st.counts
        parts = [f"done {st.done}/{st.total}", f"✔ {c['completed']}", f"✖ {c['failed']}"]
        if c["cancelled"]:
            parts.append(f"cancelled {c['cancelled']}")
        running = f"running {c['running'] + c['waiting']}"
        if c["waiting"]:
            running += f" (waiting {c['waiting']})"
        parts += [
            running,
            f"retries {st.retries}",
            f"tokens {_fmt_count(st.tokens)}",
            f"{rate:.1f} calls/s",
            f"ETA {_fmt_eta(eta)}",
        ]
        return " · ".join(parts)


async def _show_progress(progress: Progress, console: Console) -> None:
    if console.is_terminal:
        from rich.live import Live

        with Live(
            Text(progress.line()), console=console, auto_refresh=False, transient=True
        ) as live:
            while True:
                await asyncio.sleep(REFRESH_S)
                live.update(Text(progress.line()), refresh=True)
    else:
        while True:
            await asyncio.sleep(PLAIN_EVERY_S)
            console.print(progress.line(), highlight=False)


async def drive(runner: BatchRunner, *, show_progress: bool = True) -> int:
    """Run ``runner`` to the end with Ctrl-C handling and a progress display; returns the exit
    code (0 all completed, 1 some failed or cancelled, 130 interrupted)."""
    err = Console(stderr=True, highlight=False)
    loop = asyncio.get_running_loop()
    presses = 0

    def on_interrupt() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            err.print(
                "[yellow]Interrupted: finishing the scenes in progress "
                "(Ctrl-C again to stop at once)…[/]"
            )
            runner.drain()
        else:
            runner.cancel_all(interrupted=True)

    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_interrupt)
            handled.append(sig)
    display = (
        asyncio.create_task(_show_progress(Progress(runner.state), err)) if show_progress else None
    )
    try:
        await runner.run()
    finally:
        if display is not None:
            display.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await display
        interrupted = runner.interrupted or presses > 0
        await runner.aclose()
        for sig in handled:
            loop.remove_signal_handler(sig)
    print_summary(runner.state, stdout_console(), run_dir=str(runner.run_dir))
    if runner.fatal:
        err.print(f"[red]relsim: the batch stopped: {printable(runner.fatal)}[/]")
    if interrupted:
        err.print(f"Resume with: relsim resume {runner.run_dir}")
        return EXIT_INTERRUPTED
    c = runner.state.counts
    return EXIT_OK if c["completed"] == runner.state.total else EXIT_FAILED


def print_summary(
    state: BatchState,
    console: Console,
    *,
    run_dir: str | None = None,
    limit: int = PER_SIM_TABLE_MAX,
) -> None:
    c = state.counts
    if state.total <= limit:
        table = Table(title="Simulations", title_justify="left")
        for name, justify in (
            ("sim", "left"),
            ("pair", "left"),
            ("state", "left"),
            ("try", "right"),
            ("scenes", "right"),
            ("commitment", "left"),
            ("retries", "right"),
            ("note", "left"),
        ):
            table.add_column(
                name,
                justify=justify,
                no_wrap=name != "note",  # type: ignore[arg-type]
                overflow="ellipsis",
            )
        for row in state.rows.values():
            scores = " / ".join(
                f"{row.latest(a) if row.latest(a) is not None else '–'}" for a in row.agents
            )
            style = STATE_STYLES.get(row.state, "")
            table.add_row(
                row.sim_id,
                Text(printable(row.pair)),
                Text(row.state, style=style),
                str(row.attempt),
                f"{row.scene}/{row.num_scenes}",
                scores,
                str(row.retries),
                Text(printable((row.reason or "")[:60])),
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
    summary.add_row("fallbacks", str(state.fallbacks))
    summary.add_row("tokens", _fmt_count(state.tokens))
    end = state.finished_at or time.time()
    summary.add_row("wall time", f"{end - state.started_at:.1f} s")
    console.print(summary)
    if run_dir:
        console.print(f"run directory: {printable(run_dir)}", soft_wrap=True)


def print_transcript(events: Iterable[EventBase], console: Console) -> None:
    """A readable transcript of one simulation's events."""
    printer = TranscriptPrinter(console)
    for event in events:
        printer(event)


def stdout_console() -> Console:
    """stdout; when it is a pipe or file, wide enough that tables keep whole values."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=200)


def print_table(console: Console, rows: list[dict[str, Any]], columns: list[str]) -> None:
    table = Table()
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(Text(printable(str(row.get(c, "")))) for c in columns))
    console.print(table)
