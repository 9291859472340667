"""Terminal side of headless batch commands: drive a runner with Ctrl-C handling and show live
progress from the coalesced BatchState on a timer (never per event), then the summary. Used by
``relsim run``, ``resume`` and ``rerun``; what is printed comes from ``engine.present``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from engine.batch.runner import drain_timeout
from engine.present.console import ProgressLine, print_summary, stdout_console
from engine.present.logs import stderr_console
from engine.textsafe import printable

if TYPE_CHECKING:
    from engine.batch.runner import BatchRunner

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
REFRESH_S = 0.25
PLAIN_EVERY_S = 5.0


async def _show_progress(progress: ProgressLine, console: Console) -> None:
    if console.is_terminal:
        from rich.live import Live

        with Live(progress.render(), console=console, auto_refresh=False, transient=True) as live:
            while True:
                await asyncio.sleep(REFRESH_S)
                live.update(progress.render(), refresh=True)
    else:
        while True:
            await asyncio.sleep(PLAIN_EVERY_S)
            console.print(progress.text(), highlight=False)


async def drive(runner: BatchRunner, *, show_progress: bool = True) -> int:
    """Run ``runner`` to the end with Ctrl-C handling and a progress display; returns the exit
    code (0 all completed, 1 some failed or cancelled, 130 interrupted)."""
    # The one stderr console: log records and the progress line share it (engine.present.logs).
    err = stderr_console()
    loop = asyncio.get_running_loop()
    presses = 0

    def on_interrupt() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            err.print(
                "[yellow]Interrupted: finishing the scenes in progress, at most "
                f"{drain_timeout():.0f} s (Ctrl-C again to stop at once)…[/]"
            )
            runner.drain()
        else:
            runner.cancel_all(interrupted=True)

    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_interrupt)
            handled.append(sig)
    progress = ProgressLine(runner.state)
    display = asyncio.create_task(_show_progress(progress, err)) if show_progress else None
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
        err.print(Text(f"relsim: the batch stopped: {printable(runner.fatal)}", style="red"))
    if interrupted:
        err.print(Text(f"Resume with: relsim resume {printable(str(runner.run_dir))}"))
        return EXIT_INTERRUPTED
    c = runner.state.counts
    return EXIT_OK if c["completed"] == runner.state.total else EXIT_FAILED
