"""Log writer throughput: events/s through RunLogWriter with zero loss.

    python -m pytest tests/perf/bench_batch_log.py -s      (or run as a script)
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from engine.batch.runlog import EVENTS, RunLogWriter
from engine.events import CallCompleted, Narration, SceneEnded
from engine.sim.records import CommitmentEntry, PartnerCommitment, TurningPointRef

N = 200_000
TARGET = 50_000


def sample_events(n_sims: int = 1000) -> list:
    tp = TurningPointRef(id="first-date", category="Initial Formation", title="First date",
                         uncertainty="partner")
    pc = PartnerCommitment(agent="A", role="A", score=7, reasoning="steady and warm " * 4,
                           satisfaction=7, alternatives=3, investment=6)
    entry = CommitmentEntry(scene_index=0, turning_point=tp, summary="They talked. " * 10,
                            commitments={"A": pc, "B": pc.model_copy(update={"agent": "B"})})
    out = []
    for i in range(n_sims):
        sid = f"s{i:05d}"
        out.append(CallCompleted(sim_id=sid, purpose="beat", attempts=1, prompt_tokens=900,
                                 completion_tokens=120, latency_s=1.0))
        out.append(Narration(sim_id=sid, scene_index=0, beat=1, text="She looks up. " * 8,
                             next_actor="A"))
        out.append(SceneEnded(sim_id=sid, scene_index=0, entry=entry))
    return out


async def measure(n: int = N) -> dict[str, float]:
    events = sample_events()
    with tempfile.TemporaryDirectory() as tmp:
        writer = RunLogWriter(Path(tmp))
        await writer.start()
        start = time.perf_counter()
        for i in range(n):
            writer.append(events[i % len(events)])
            if i % 1000 == 999:
                await writer.room()  # the producer side of backpressure, as the runner does
                await asyncio.sleep(0)
        await writer.flush(sync=True)
        elapsed = time.perf_counter() - start
        await writer.aclose()
        lines = (Path(tmp) / EVENTS).read_bytes().count(b"\n")
        size = (Path(tmp) / EVENTS).stat().st_size
    return {"events": n, "lines": lines, "seconds": elapsed, "rate": n / elapsed,
            "mb": size / 1e6, "batches": writer.batches, "max_pending": writer.max_pending}


def test_log_writer_throughput() -> None:
    r = asyncio.run(measure())
    print(f"\nlog writer: {r['events']:,} events ({r['mb']:.0f} MB) in {r['seconds']:.2f} s = "
          f"{r['rate']:,.0f} events/s; lines on disk {r['lines']:,}; batches {r['batches']}; "
          f"max queued {r['max_pending']:,}")
    assert r["lines"] == r["events"]
    assert r["rate"] >= TARGET


if __name__ == "__main__":
    test_log_writer_throughput()
