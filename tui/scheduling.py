"""The dashboard's event loop runs the screen's callbacks before the batch's.

The batch runner shares Textual's event loop. With 1,000 simulations streaming, one loop
iteration could hold hundreds of simulation steps (~100 ms), and a key press crosses several
iterations (driver → app → screen → widget → repaint), each waiting behind all of them:
``tests/perf/bench_tui.py`` measured key → repaint p95 71–276 ms. With this queue every
iteration runs all of the UI's ready callbacks first, then batch callbacks for at most
``BATCH_SLICE`` seconds, then polls for I/O again: p95 23–28 ms, at the same batch throughput
(the batch still gets all the time the UI leaves; a loop never idles while batch work waits).

Batch work is whatever runs in a context where ``BATCH`` is set: ``Session`` starts its runner
in ``batch_context()``, and the tasks, timers and callbacks the engine creates inherit it.

asyncio has no public hook for scheduling order, so ``install`` replaces the loop's ready
queue (``BaseEventLoop._ready``: a deque the loop only appends to, pops from the left, measures
and clears). On a loop without one (another implementation) it does nothing and returns
False: the dashboard then works as before, only slower to answer keys under load.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import deque
from typing import Any

BATCH: contextvars.ContextVar[bool] = contextvars.ContextVar("relsim_batch_work", default=False)

# Longest run of batch callbacks between two I/O polls. A key press then waits at most about
# this long per loop iteration it crosses.
BATCH_SLICE = 0.010


def batch_context() -> contextvars.Context:
    """A copy of the current context marked as batch work (for ``loop.create_task``)."""
    context = contextvars.copy_context()
    context.run(BATCH.set, True)
    return context


class UIFirstQueue:
    """A drop-in for the loop's ready deque: UI handles first, batch handles time-sliced."""

    def __init__(self, loop: asyncio.AbstractEventLoop, slice_seconds: float = BATCH_SLICE):
        self.ui: deque[asyncio.Handle] = deque()
        self.batch: deque[asyncio.Handle] = deque()
        self.slice_seconds = slice_seconds
        self._slice_end: float | None = None
        # Handed to the loop in place of batch work once the slice is spent: the loop skips
        # cancelled handles, so the iteration ends (cheaply) and the loop polls again.
        self._skip = asyncio.Handle(_nothing, (), loop)
        self._skip.cancel()

    def append(self, handle: asyncio.Handle) -> None:
        context: contextvars.Context | None = getattr(handle, "_context", None)
        if context is not None and context.get(BATCH, False):
            self.batch.append(handle)
        else:
            self.ui.append(handle)

    def popleft(self) -> asyncio.Handle:
        if self.ui:
            return self.ui.popleft()
        if self.batch:
            now = time.perf_counter()
            if self._slice_end is None:
                self._slice_end = now + self.slice_seconds
            if now < self._slice_end:
                return self.batch.popleft()
        return self._skip

    def __len__(self) -> int:
        # The loop measures the queue once per iteration, before running it: a new slice.
        self._slice_end = None
        return len(self.ui) + len(self.batch)

    def __bool__(self) -> bool:
        return bool(self.ui) or bool(self.batch)

    def clear(self) -> None:
        self.ui.clear()
        self.batch.clear()


def _nothing() -> None:
    return None


def install(loop: asyncio.AbstractEventLoop) -> bool:
    """Give ``loop`` a UI-first ready queue. Returns False (and changes nothing) where the
    loop keeps no ready deque."""
    old: Any = getattr(loop, "_ready", None)
    if isinstance(old, UIFirstQueue):
        return True
    if not isinstance(old, deque):
        return False
    queue = UIFirstQueue(loop)
    loop._ready = queue  # type: ignore[attr-defined]
    while old:  # in order; a thread may still append to the old deque for an instant
        queue.append(old.popleft())
    return True


def uninstall(loop: asyncio.AbstractEventLoop) -> None:
    """Put back a plain ready deque, keeping what is queued (UI handles first)."""
    queue: Any = getattr(loop, "_ready", None)
    if isinstance(queue, UIFirstQueue):
        plain: deque[asyncio.Handle] = deque()
        loop._ready = plain  # type: ignore[attr-defined]
        plain.extend(queue.ui)
        plain.extend(queue.batch)
