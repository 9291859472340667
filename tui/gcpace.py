"""Garbage-collector pacing while a batch streams in the dashboard.

Measured with 1,000 simulations in flight (tests/perf/bench_tui.py): CPython's full (gen 2)
collections scan the whole, large and growing heap of a running batch, pausing the event loop
for up to ~0.5 s each (15 of them, 4 s in all, in one 20 s run). A paused loop means a frozen
screen and a key press answered a second late. Freezing the objects that survived so far (they
are the batch's long-lived state) four times a second keeps each collection to the objects
made in the last quarter second. Objects are still freed by reference counting as usual; only cyclic
garbage among frozen objects waits until the batch ends, when everything is unfrozen and
collected once, while the screen is idle.
"""

from __future__ import annotations

import gc
import time

FREEZE_EVERY_S = 0.25


class GcPacer:
    def __init__(self) -> None:
        self.active = False
        self._last = 0.0

    def tick(self, running: bool) -> None:
        now = time.monotonic()
        if running:
            if now - self._last >= FREEZE_EVERY_S:
                gc.freeze()
                self._last = now
                self.active = True
        elif self.active:
            self.release()

    def release(self) -> None:
        """Give the frozen objects back to the collector (and collect once)."""
        if self.active:
            self.active = False
            gc.unfreeze()
            gc.collect()
