"""How often screens repaint, and the clock they show (frozen for snapshots)."""

from __future__ import annotations

import time
from dataclasses import dataclass

# Screen refresh rate: a few Hz, slower for large batches. Screen cost follows the refresh
# rate, and a repaint of the table is ~50-70 ms at 200×50; with 1,000 simulations streaming,
# 2 Hz measured p95 key→repaint ~190 ms and 1 Hz under 100 ms (tests/perf/bench_tui.py, before
# tui.scheduling put the screen's callbacks ahead of the batch's).
REFRESH_HZ = 4.0
LARGE_BATCH = 250
LARGE_BATCH_HZ = 1.0


@dataclass(frozen=True, slots=True)
class Pace:
    hz: float = REFRESH_HZ
    frozen: bool = False  # hide clock-dependent figures (snapshots)

    def now(self) -> float | None:
        """Wall clock for elapsed/ETA; None when frozen."""
        return None if self.frozen else time.time()

    def refresh_hz(self, total: int) -> float:
        return self.hz if total <= LARGE_BATCH else min(self.hz, LARGE_BATCH_HZ)
