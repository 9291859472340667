"""The batch runner: isolation, cancel, rerun, drain and resume, fatal errors, lossless log."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from engine import errors
from engine.batch.reader import RunReader
from engine.batch.runlog import EVENTS, RunLogWriter
from engine.batch.runner import INTERRUPTED, BatchRunner
from engine.events import SceneEnded, SceneStarted, SimStateChanged
from tests.batch.helpers import FaultyProvider, count_lines, logs_of, small_spec, spec_provider


async def run_all(runner: BatchRunner) -> None:
    try:
        await runner.run()
    finally:
        await runner.aclose()


async def test_batch_runs_and_logs_every_event(tmp_path: Path) -> None:
    runner = BatchRunner(small_spec(tmp_path, replicates=2))
    assert [r.state for r in runner.state.rows.values()] == ["pending"] * 6
    seen: list = []
    runner.subscribe(seen.append)
    await run_all(runner)
    assert runner.state.counts["completed"] == 6
    published = runner.bus.published
    assert count_lines(runner.run_dir / EVENTS) == published == len(seen)
    reader = RunReader(runner.run_dir)
    assert reader.manifest["status"] == "completed"
    assert {s["status"] for s in reader.manifest["sims"].values()} == {"completed"}
    assert all(len(log) == 2 for log in logs_of(reader).values())
    rebuilt = reader.state()
    assert dict(rebuilt.counts) == dict(runner.state.counts)
    assert rebuilt.calls == runner.state.calls and rebuilt.retries == runner.state.retries
    states = [e.state for e in reader.events("s0001") if isinstance(e, SimStateChanged)]
    assert states == ["pending", "running", "completed"]


async def test_same_seed_same_commitment_logs(tmp_path: Path) -> None:
    a = BatchRunner(small_spec(tmp_path / "a"))
    b = BatchRunner(small_spec(tmp_path / "b", concurrency=1))
    await run_all(a)
    await run_all(b)
    assert logs_of(RunReader(a.run_dir)) == logs_of(RunReader(b.run_dir))


async def test_a_raising_simulation_does_not_disturb_neighbours(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, replicates=2)
    faulty = FaultyProvider(spec_provider(spec), {"s0002", "s0005"})
    async with BatchRunner(spec, provider=faulty) as runner:
        await runner.run()
    rows = runner.state.rows
    assert {s for s, r in rows.items() if r.state == "failed"} == {"s0002", "s0005"}
    assert "injected failure in s0002" in (rows["s0002"].reason or "")
    assert runner.state.counts["completed"] == 4
    # Neighbours' results equal a clean run's.
    clean = BatchRunner(small_spec(tmp_path / "clean", replicates=2))
    await run_all(clean)
    ok, ref = logs_of(RunReader(runner.run_dir)), logs_of(RunReader(clean.run_dir))
    assert all(ok[s] == ref[s] for s in ok if s not in {"s0002", "s0005"})

    # Rerun failed with --same-seed: only the failed ones run again, as attempt 2 with the
    # original seed (a plain rerun draws a new seed: tests/batch/test_hardening.py).
    reopened = BatchRunner.open(runner.run_dir)
    assert sorted(reopened.rerun_failed(same_seed=True)) == ["s0002", "s0005"]
    await run_all(reopened)
    reader = RunReader(runner.run_dir)
    assert reader.manifest["sims"]["s0002"]["attempt"] == 2
    assert [a["status"] for a in reader.manifest["sims"]["s0002"]["attempts"]] == [
        "failed", "completed"]
    assert reader.manifest["sims"]["s0001"]["attempt"] == 1
    assert logs_of(reader) == ref
    assert reader.attempts("s0002") == [1, 2] and reader.attempts("s0001") == [1]


async def test_cancel_one_while_others_run(tmp_path: Path) -> None:
    runner = BatchRunner(small_spec(tmp_path, sim={"latency": 0.01}, replicates=2))

    def on_event(event: object) -> None:
        if isinstance(event, SceneStarted) and event.sim_id == "s0003":
            runner.cancel("s0003")

    runner.bus.subscribe_inline(on_event)
    await run_all(runner)
    rows = runner.state.rows
    assert rows["s0003"].state == "cancelled"
    assert runner.state.counts["completed"] == 5
    assert not runner.cancel("s0001")  # already ended
    # A user's cancel is final: resume does not pick it up, rerun does.
    reopened = BatchRunner.open(runner.run_dir)
    assert reopened.resume_unfinished() == 0
    assert reopened.rerun("s0003", seed=123)
    await run_all(reopened)
    reader = RunReader(runner.run_dir)
    assert reader.manifest["sims"]["s0003"]["status"] == "completed"
    assert reader.manifest["sims"]["s0003"]["attempts"][-1]["seed"] == 123
    assert reader.attempt_seed("s0003", 2) == 123


async def test_cancel_all_and_rerun_after_run_returned(tmp_path: Path) -> None:
    runner = BatchRunner(small_spec(tmp_path, sim={"latency": 0.01}, concurrency=2))

    def on_event(event: object) -> None:
        if isinstance(event, SceneEnded):
            runner.cancel_all()

    unsubscribe = runner.bus.subscribe_inline(on_event)
    await runner.run()
    assert runner.state.counts["cancelled"] == 3
    unsubscribe()
    assert runner.rerun("s0001")
    await runner.run()  # a second run() executes reruns requested after the first returned
    await runner.aclose()
    assert runner.state.rows["s0001"].state == "completed"
    assert runner.state.rows["s0001"].attempt == 2


async def test_drain_then_resume_matches_uninterrupted(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, scenes=3, replicates=2, concurrency=3, sim={"latency": 0.005,
                                                                            "malformed": 0.05})
    runner = BatchRunner(spec)

    def on_event(event: object) -> None:
        if isinstance(event, SceneEnded) and event.sim_id == "s0001" and event.scene_index == 0:
            runner.drain()

    runner.bus.subscribe_inline(on_event)
    await run_all(runner)
    assert runner.interrupted
    states = {r.state for r in runner.state.rows.values()}
    assert "pending" in states and "cancelled" in states
    cancelled = [r for r in runner.state.rows.values() if r.state == "cancelled"]
    assert all(r.reason == INTERRUPTED for r in cancelled)
    assert RunReader(runner.run_dir).manifest["status"] == "interrupted"

    resumed = BatchRunner.open(runner.run_dir)
    assert resumed.resume_unfinished() == 6 - runner.state.counts["completed"]
    await run_all(resumed)
    # Same simulator options: a zero-latency run orders concurrent calls differently (see
    # the report: Simulation's beat reads emotions while the appraisal is in flight).
    reference = BatchRunner(small_spec(tmp_path / "ref", scenes=3, replicates=2,
                                       sim={"latency": 0.005, "malformed": 0.05}))
    await run_all(reference)
    reader = RunReader(runner.run_dir)
    assert logs_of(reader) == logs_of(RunReader(reference.run_dir))
    for sim_id in reader.sim_ids():
        ended = [e.scene_index for e in reader.events(sim_id) if isinstance(e, SceneEnded)]
        started = [e.scene_index for e in reader.events(sim_id) if isinstance(e, SceneStarted)]
        assert ended == started == [0, 1, 2]


async def test_fatal_endpoint_error_stops_the_batch(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, replicates=3, concurrency=2)
    faulty = FaultyProvider(spec_provider(spec), {"s0001"}, after=1,
                            exc=lambda msg: errors.EndpointFatalError("401: bad key"))  # type: ignore
    async with BatchRunner(spec, provider=faulty) as runner:
        await runner.run()
    assert runner.fatal and "bad key" in runner.fatal
    rows = runner.state.rows
    assert rows["s0001"].state == "failed"
    assert runner.state.counts["pending"] >= 6  # nothing new started after the fatal error


async def test_slow_disk_loses_nothing_and_bounds_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = RunLogWriter._write_chunk

    async def slow(self: RunLogWriter, data: bytes, index: bytes, fact_lines: bytes,
                   sync: bool) -> None:
        await asyncio.sleep(0.02)
        await original(self, data, index, fact_lines, sync)

    monkeypatch.setattr(RunLogWriter, "_write_chunk", slow)
    runner = BatchRunner(small_spec(tmp_path, replicates=4, concurrency=12))
    runner._writer.high_water, runner._writer.low_water = 200, 50
    await run_all(runner)
    assert runner.state.counts["completed"] == 12
    assert count_lines(runner.run_dir / EVENTS) == runner.bus.published
    # Backpressure kept the queue near the high-water mark (one step's events may overshoot).
    assert runner.log_stats["max_pending"] < 400


async def test_slow_subscriber_does_not_slow_the_engine(tmp_path: Path) -> None:
    import time

    runner = BatchRunner(small_spec(tmp_path))
    got: list = []

    def slow(event: object) -> None:
        time.sleep(0.002)
        got.append(event)

    runner.bus.subscribe(slow, maxlen=20)
    await run_all(runner)
    assert runner.state.counts["completed"] == 3
    assert count_lines(runner.run_dir / EVENTS) == runner.bus.published
    assert runner.bus.dropped() > 0 and len(got) < runner.bus.published


async def test_run_dir_in_use_is_refused(tmp_path: Path) -> None:
    runner = BatchRunner(small_spec(tmp_path))
    with pytest.raises(errors.ConfigError, match="in use"):
        BatchRunner.open(runner.run_dir)
    await runner.aclose()
    BatchRunner.open(runner.run_dir)._release_lock()


async def test_running_a_batch_leaves_the_collector_alone(tmp_path: Path) -> None:
    # GC tuning is the commands' choice (engine.batch.gctune), never a side effect of the engine.
    before = gc.get_threshold()
    during: set[tuple[int, ...]] = set()
    async with BatchRunner(small_spec(tmp_path)) as runner:
        runner.bus.subscribe_inline(lambda event: during.add(gc.get_threshold()))
        await runner.run()
    assert runner.state.counts["completed"] == 3
    assert during == {before} and gc.get_threshold() == before
