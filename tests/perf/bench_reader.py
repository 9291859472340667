"""Opening one simulation of a 10,000-simulation run from its directory.

A run of 10,000 simulations (2 scenes, 1 beat, the simulator without latency) is written once;
then, for simulations spread over the run, a fresh ``RunReader`` rebuilds each one's transcript
(its events), commitment log and state, as ``relsim show`` and the dashboard's past-run view do.
``relsim show RUN SIM`` is also timed as a user meets it: a new process, imports included.

    python -m pytest tests/perf/bench_reader.py -s      Knob: RELSIM_BENCH_SIMS (10000)
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.batch.gctune import batch_gc
from engine.batch.reader import RunReader
from engine.batch.runner import BatchRunner
from engine.batch.spec import BatchSpec

SIMS = int(os.environ.get("RELSIM_BENCH_SIMS", "10000"))
TARGET_S = 0.5  # "well under a second"
SAMPLES = 20


async def write_run(out: str) -> Path:
    logging.disable(logging.CRITICAL)
    replicates = -(-SIMS // 91)  # whole rounds of the 91 pairs; the extra ones are cancelled
    spec = BatchSpec(name="reader", personas="all", replicates=replicates, scenes=2, beats=1,
                     concurrency=2000, out=out, seed=1, max_simulations=replicates * 91)
    runner = BatchRunner(spec)
    for sim_id in runner.sim_ids[SIMS:]:
        runner.cancel(sim_id)
    await runner.run()
    await runner.aclose()
    return runner.run_dir


def open_one(run_dir: Path, sim_id: str) -> tuple[float, int]:
    start = time.perf_counter()
    reader = RunReader(run_dir)
    events = reader.events(sim_id)
    log = reader.commitment_log(sim_id)
    reader.sim_info(sim_id)
    elapsed = time.perf_counter() - start
    assert events and len(log) == 2
    return elapsed, len(events)


def test_open_one_simulation_of_a_large_run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with batch_gc():  # written the way `relsim run` writes it
            run_dir = asyncio.run(write_run(tmp))
        built = time.perf_counter() - t0
        size_mb = (run_dir / "events.jsonl").stat().st_size / 1e6
        ids = RunReader(run_dir).sim_ids()[:SIMS]  # the rest were cancelled unrun
        picks = [ids[i * (len(ids) - 1) // (SAMPLES - 1)] for i in range(SAMPLES)]
        gc.collect()  # the writer's 10,000 finished simulations are garbage, not the reader's
        timings = [open_one(run_dir, sim_id) for sim_id in picks]
        seconds = sorted(t for t, _ in timings)
        cli = []
        for sim_id in (picks[0], picks[len(picks) // 2], picks[-1]):
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "engine.cli", "show", str(run_dir),
                                   sim_id], capture_output=True, text=True, check=True)
            cli.append(time.perf_counter() - start)
            assert "Commitment log" in done.stdout
    print(f"\nreader: run of {len(ids):,} simulations, events.jsonl {size_mb:.0f} MB "
          f"(written in {built:.0f} s); open one simulation (fresh reader: transcript, "
          f"commitment log, state) median {statistics.median(seconds) * 1000:.1f} ms, "
          f"max {seconds[-1] * 1000:.1f} ms over {SAMPLES} spread over the run "
          f"({timings[0][1]} events each); `relsim show RUN SIM` as a new process "
          f"{min(cli):.2f}-{max(cli):.2f} s (target < {TARGET_S:g} s in-process)")
    assert seconds[-1] < TARGET_S
