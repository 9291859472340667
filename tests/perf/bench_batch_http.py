"""Batch latency efficiency over real HTTP: 1,000 simulations against ``relsim serve`` with a
fixed 1 s latency per call, the run log on. Efficiency = ideal / wall, where the ideal is the
longest chain of dependent calls × 1 s (``calls_on_critical_path``).

The server runs in its own process on CPU 1, the batch on CPU 0. The endpoint's admission limit
is raised (RELSIM_MAX_IN_FLIGHT) so that it measures the runner, not the limiter.

    python -m pytest tests/perf/bench_batch_http.py -s      (or run as a script)
    Knobs: RELSIM_BENCH_SIMS (1000), RELSIM_BENCH_SCENES (2), RELSIM_BENCH_BEATS (1)
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.batch.gctune import batch_gc
from engine.batch.runner import BatchRunner
from engine.batch.spec import BatchSpec
from engine.sim.simulation import calls_on_critical_path
from tests.servers import SimServerProcess

SIMS = int(os.environ.get("RELSIM_BENCH_SIMS", "1000"))
SCENES = int(os.environ.get("RELSIM_BENCH_SCENES", "2"))
BEATS = int(os.environ.get("RELSIM_BENCH_BEATS", "1"))
LATENCY = 1.0
TARGET = 0.90


async def measure(base_url: str) -> dict[str, float]:
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        spec = BatchSpec(name="http", personas="all", replicates=-(-SIMS // 91), scenes=SCENES,
                         beats=BEATS, model="openai-compatible/sim", base_url=base_url,
                         concurrency=SIMS, out=tmp, seed=1)
        runner = BatchRunner(spec)
        for sim_id in runner.sim_ids[SIMS:]:
            runner.cancel(sim_id)
        start = time.perf_counter()
        await runner.run()
        wall = time.perf_counter() - start
        await runner.aclose()
        lines = (runner.run_dir / "events.jsonl").read_bytes().count(b"\n")
        st = runner.state
    chain = calls_on_critical_path(SCENES, BEATS)
    ideal = chain * LATENCY
    return {"wall": wall, "ideal": ideal, "efficiency": ideal / wall,
            "completed": st.counts["completed"],
            "failed": st.counts["failed"], "calls": st.calls, "retries": st.retries,
            "lines": lines, "published": runner.bus.published}


def test_http_latency_efficiency() -> None:
    os.environ.setdefault("RELSIM_MAX_IN_FLIGHT", str(SIMS * 4))
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
    with SimServerProcess(["--latency", str(LATENCY)], cpu=1 if (os.cpu_count() or 1) > 1
                          else None) as server, batch_gc():  # as `relsim run` does
        r = asyncio.run(measure(server.base_url))
    print(f"\nHTTP: {SIMS:,} simulations × ({SCENES} scenes, {BEATS} beat) against relsim serve "
          f"at {LATENCY:g} s/call, run log on: wall {r['wall']:.1f} s, ideal {r['ideal']:.0f} s "
          f"→ efficiency {r['efficiency']:.3f}; {r['calls']:,} calls "
          f"({r['calls'] / r['wall']:,.0f}/s), "
          f"retries {r['retries']}; completed {r['completed']:,}, failed {r['failed']}; "
          f"events logged {r['lines']:,}/{r['published']:,}")
    assert r["completed"] == SIMS and r["lines"] == r["published"]
    assert r["efficiency"] >= TARGET


if __name__ == "__main__":
    test_http_latency_efficiency()
