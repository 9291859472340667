"""Batch runner at scale, in-process on the simulator (no HTTP).

* efficiency: wall time vs the ideal (the longest chain of dependent calls × latency) with
  10,000 simulations in flight at 10 s per call, the run log on;
* memory per running simulation (RSS growth while all are in flight / simulations), at
  1,000 and 10,000.

    python -m pytest tests/perf/bench_batch.py -s          # both sizes (~3 min for 10,000)
    RELSIM_BENCH_SIMS=1000 python tests/perf/bench_batch.py

The ideal is ``calls_on_critical_path`` (identity memories, then every scene's chain) × latency.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import tempfile
import time

import psutil

from engine.batch.gctune import batch_gc
from engine.batch.runner import BatchRunner
from engine.batch.spec import BatchSpec
from engine.sim.simulation import calls_on_critical_path

SCENES, BEATS = 2, 1
TARGET_EFFICIENCY = 0.90
TARGET_KB_PER_SIM = 100


def _spec(n: int, latency: float, out: str) -> BatchSpec:
    # 14 personas → 91 pairs; replicates make up the count.
    replicates = -(-n // 91)
    return BatchSpec(name="bench", personas="all", replicates=replicates, scenes=SCENES,
                     beats=BEATS, sim={"latency": latency}, concurrency=n, out=out, seed=1,
                     max_simulations=replicates * 91)


async def measure(n: int, latency: float) -> dict[str, float]:
    logging.disable(logging.CRITICAL)
    proc = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        spec = _spec(n, latency, tmp)
        runner = BatchRunner(spec)
        # Trim to exactly n simulations (the spec makes whole replicate rounds).
        for sim_id in runner.sim_ids[n:]:
            runner.cancel(sim_id)
        gc.collect()
        rss_before = proc.memory_info().rss
        peak = {"rss": rss_before, "running": 0}

        async def sample() -> None:
            while True:
                await asyncio.sleep(latency / 2)
                running = runner.state.counts["running"]
                rss = proc.memory_info().rss
                if running >= peak["running"] and rss > peak["rss"]:
                    peak.update(rss=rss, running=running)

        sampler = asyncio.create_task(sample())
        start = time.perf_counter()
        await runner.run()
        wall = time.perf_counter() - start
        sampler.cancel()
        await runner.aclose()
        completed = runner.state.counts["completed"]
        lines = (runner.run_dir / "events.jsonl").read_bytes().count(b"\n")
        published = runner.bus.published
    chain = calls_on_critical_path(SCENES, BEATS)
    ideal = chain * latency
    per_sim_kb = (peak["rss"] - rss_before) / max(1, peak["running"]) / 1024
    return {"n": n, "completed": completed, "wall": wall, "ideal": ideal,
            "efficiency": ideal / wall,
            "kb_per_sim": per_sim_kb, "peak_running": peak["running"],
            "lines": lines, "published": published}


def report(r: dict[str, float], latency: float) -> None:
    print(f"\n{r['n']:,} simulations × ({SCENES} scenes, {BEATS} beat) at {latency:g} s/call, "
          f"run log on: wall {r['wall']:.1f} s, ideal {r['ideal']:.0f} s → efficiency "
          f"{r['efficiency']:.3f}; "
          f"RSS per running simulation {r['kb_per_sim']:.1f} KB (at {r['peak_running']:,} "
          f"running); events logged {r['lines']:,}/{r['published']:,}; "
          f"completed {r['completed']:,}")


def _run(n: int, latency: float) -> dict[str, float]:
    with batch_gc():  # as `relsim run` does
        r = asyncio.run(measure(n, latency))
    report(r, latency)
    assert r["completed"] == n
    assert r["lines"] == r["published"]
    return r


def test_scale_1000() -> None:
    r = _run(1000, 10.0)
    assert r["efficiency"] >= TARGET_EFFICIENCY
    assert r["kb_per_sim"] <= TARGET_KB_PER_SIM


def test_scale_10000() -> None:
    r = _run(10_000, 10.0)
    assert r["efficiency"] >= TARGET_EFFICIENCY
    assert r["kb_per_sim"] <= TARGET_KB_PER_SIM


if __name__ == "__main__":
    n = int(os.environ.get("RELSIM_BENCH_SIMS", "10000"))
    _run(n, float(os.environ.get("RELSIM_BENCH_LATENCY", "10")))
