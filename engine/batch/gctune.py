"""Garbage-collector settings while batches run.

Thousands of live simulations make a large heap of long-lived objects; with the default
thresholds (700 allocations) the collector runs constantly and its older generations rescan
that heap, which measured at about half the CPU of a 10,000-simulation run. Inside
``batch_gc()`` the young-generation threshold is raised; the previous settings come back when
the outermost one ends. The middle generation is collected rarely too: its collections paused
the dashboard's event loop for up to 0.75 s with 1,000 simulations streaming (key → repaint
p95 102–130 ms at (50,000, 20), 53–103 ms at (100,000, 100), bench_tui.py), for no measurable
change in memory (RSS per running simulation 111.8 vs 112.5 KB, bench_batch.py).

The collector is the process's, not the engine's: the runner never changes it. Programs that
run big batches opt in by wrapping their run (``relsim run``/``resume``/``rerun``, the dashboard
behind ``relsim dash``/``demo``, ``relsim serve``, and the benchmarks that measure them). The
analysis loader (``engine.analysis.load.load_run``) pauses it while it reads a run
(``paused_gc``): decoding a 10,000-simulation run makes over a million objects, none of them
in a cycle a collection could free, and collections added 40% (default thresholds) or 13%
(batch thresholds) to reading the run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BATCH_THRESHOLDS = (100_000, 100, 1000)
_depth = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def paused_gc() -> Iterator[None]:
    """No collection for the duration of the ``with`` block (a short burst of acyclic objects)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def batch_gc() -> Iterator[None]:
    """Batch-friendly collector thresholds for the duration of the ``with`` block (nestable)."""
    global _depth, _saved
    if _depth == 0:
        _saved = gc.get_threshold()
        gc.set_threshold(*BATCH_THRESHOLDS)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None
