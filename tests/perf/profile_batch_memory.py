"""Where a running batch's memory goes: the allocation sites alive at its peak.

Runs bench_batch's batch (every simulation in flight on the simulator, run log on) under
tracemalloc and, at the end of each event-loop iteration while all simulations run, keeps a
snapshot whenever traced memory reached a new high. Prints the biggest sites of that snapshot
(growth since the batch started, per running simulation), by line and by file.

    RELSIM_BENCH_SIMS=1000 RELSIM_BENCH_LATENCY=2 python -m tests.perf.profile_batch_memory

Tracing slows the engine and costs memory of its own: read the sizes against each other, and
bench_batch.py for RSS. The lockstep shape is the same at any latency, so 2 s/call will do.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import tempfile
import tracemalloc
from typing import Any

from engine.batch.gctune import batch_gc
from engine.batch.runner import BatchRunner
from tests.perf.bench_batch import _spec

STEP = 1_000_000  # bytes: a new snapshot only when the high grew by this much


async def peak_snapshot(n: int, latency: float) -> tuple[tracemalloc.Snapshot, Any, int]:
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        runner = BatchRunner(_spec(n, latency, tmp))
        for sim_id in runner.sim_ids[n:]:
            runner.cancel(sim_id)
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.take_snapshot()
        best: dict[str, Any] = {"size": 0, "snapshot": base}
        loop = asyncio.get_running_loop()
        run_once = loop._run_once  # type: ignore[attr-defined]

        def traced_run_once() -> None:
            run_once()
            size = tracemalloc.get_traced_memory()[0]
            if size > best["size"] + STEP and runner.state.counts["running"] == n:
                best.update(size=size, snapshot=tracemalloc.take_snapshot())

        loop._run_once = traced_run_once  # type: ignore[attr-defined]
        try:
            await runner.run()
        finally:
            loop._run_once = run_once  # type: ignore[attr-defined]
            await runner.aclose()
            tracemalloc.stop()
    return best["snapshot"], base, n


def report(snapshot: tracemalloc.Snapshot, base: tracemalloc.Snapshot, n: int,
           top: int = 25) -> None:
    by_line = snapshot.compare_to(base, "lineno")
    total = sum(s.size_diff for s in by_line)
    print(f"\ntraced growth at the peak: {total / n / 1024:.1f} KB per running simulation")
    for s in by_line[:top]:
        print(f"{s.size_diff / n:8.0f} B/sim {s.count_diff / n:6.1f} blocks/sim  {s.traceback}")
    print("\nby file:")
    for s in snapshot.compare_to(base, "filename")[: top // 2]:
        print(f"{s.size_diff / n:8.0f} B/sim {s.count_diff / n:6.1f} blocks/sim  {s.traceback}")


if __name__ == "__main__":
    sims = int(os.environ.get("RELSIM_BENCH_SIMS", "1000"))
    with batch_gc():
        snap, start, count = asyncio.run(
            peak_snapshot(sims, float(os.environ.get("RELSIM_BENCH_LATENCY", "2")))
        )
    report(snap, start, count)
