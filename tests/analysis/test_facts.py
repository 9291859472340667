"""The analysis sidecar ``facts.jsonl``: the tables it gives equal those of a scan of the whole
log, through reruns, resumes, torn lines and logs changed behind its back. A scan uses the
lines whole (but for state values), so equal tables also show that the projection keeps every
field analysis reads."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import orjson
import pytest

from engine import redact
from engine.analysis.cache import DIR
from engine.analysis.load import RunData, load_run
from engine.batch import facts
from engine.batch.layout import EVENTS, FACTS
from engine.batch.runlog import RunLogWriter
from engine.batch.runner import BatchRunner
from engine.events import SceneEnded
from engine.sim.events import StateInferred
from tests.batch.helpers import FaultyProvider, small_spec, spec_provider

TABLES = ("scenes", "sims", "states")


async def run_all(runner: BatchRunner) -> None:
    try:
        await runner.run()
    finally:
        await runner.aclose()


def loaded(run_dir: Path, *, sidecar: bool, keep_reports: bool = False) -> RunData:
    """``load_run`` without the analysis cache, through the sidecar or without it."""
    shutil.rmtree(run_dir / DIR, ignore_errors=True)
    if sidecar:
        assert facts.read_facts(run_dir) is not None
        return load_run(run_dir, keep_reports=keep_reports)
    os.replace(run_dir / FACTS, run_dir / "facts.away")
    try:
        return load_run(run_dir, keep_reports=keep_reports)
    finally:
        os.replace(run_dir / "facts.away", run_dir / FACTS)
        shutil.rmtree(run_dir / DIR, ignore_errors=True)


def assert_same_tables(run_dir: Path) -> RunData:
    via_facts = loaded(run_dir, sidecar=True)
    via_scan = loaded(run_dir, sidecar=False)
    # A load that wants the after-action reports scans the log: the same tables besides them.
    with_reports = loaded(run_dir, sidecar=True, keep_reports=True)
    with_reports.sims = with_reports.sims.drop("predicted_outcome", "predicted_probability",
                                               strict=False)
    for other in (via_scan, with_reports):
        for name in TABLES:
            a, b = getattr(via_facts, name), getattr(other, name)
            assert a.schema == b.schema and a.equals(b), name
        assert via_facts.factors == other.factors
    return via_facts


def covers_whole_log(run_dir: Path) -> bool:
    lines = facts.decode_lines((run_dir / FACTS).read_bytes())
    assert lines is not None
    last = facts.covered(lines, run_dir / EVENTS)
    return last is not None and last > 0 and \
        lines[last]["upto"] == (run_dir / EVENTS).stat().st_size


async def test_sidecar_and_full_scan_give_the_same_tables(tmp_path: Path) -> None:
    spec = small_spec(tmp_path, scenes=3, replicates=2, concurrency=3,
                      sim={"latency": 0.002, "malformed": 0.05})
    runner = BatchRunner(spec)

    def on_event(event: object) -> None:
        if isinstance(event, SceneEnded) and event.sim_id == "s0001" and event.scene_index == 0:
            runner.drain()  # simulations stop mid-way: scene lines without a completion

    runner.bus.subscribe_inline(on_event)
    await run_all(runner)
    run_dir = runner.run_dir
    assert covers_whole_log(run_dir)
    first = assert_same_tables(run_dir)
    unfinished = sorted(first.sims.filter(first.sims["status"] != "completed")["sim_id"])
    assert unfinished and first.scenes.filter(first.scenes["sim_id"].is_in(unfinished)).height

    # Resume them with a provider failing two, then rerun those (attempt 2): appended lines.
    failing = set(unfinished[:2])
    faulty = FaultyProvider(spec_provider(spec), failing, after=3)
    resumed = BatchRunner.open(run_dir, provider=faulty)
    assert resumed.resume_unfinished() == len(unfinished)
    await run_all(resumed)
    middle = assert_same_tables(run_dir)
    assert set(middle.sims.filter(middle.sims["status"] == "failed")["sim_id"]) == failing
    rerun = BatchRunner.open(run_dir)
    assert sorted(rerun.rerun_failed(same_seed=True)) == sorted(failing)
    await run_all(rerun)
    assert covers_whole_log(run_dir)
    done = assert_same_tables(run_dir)
    assert set(done.sims["status"].to_list()) == {"completed"}
    assert done.sims.height == 6 and done.scenes.height == 6 * 3 * 2

    # Torn last lines (a writer mid-write) are ignored by both ways.
    events, sidecar = run_dir / EVENTS, run_dir / FACTS
    log_lines = events.read_bytes().splitlines(keepends=True)
    scene_line = next(line for line in log_lines if b'"type":"scene_ended"' in line)
    with open(events, "ab") as f:
        f.write(scene_line[: len(scene_line) // 2])
    with open(sidecar, "ab") as f:
        f.write(b'{"sim_id":"s0001","type":"sta')
    assert_same_tables(run_dir)


async def test_events_the_sidecar_lacks_are_read_from_the_log(tmp_path: Path) -> None:
    runner = BatchRunner(small_spec(tmp_path, replicates=2))
    await run_all(runner)
    run_dir = runner.run_dir
    events = run_dir / EVENTS
    # Lines an older relsim appended (no sidecar line): a rerun of s0001 as attempt 2, copied.
    lines = [orjson.loads(line) for line in events.read_bytes().splitlines()]
    again = [{**obj, "run_attempt": 2} for obj in lines if obj["sim_id"] == "s0001"]
    for obj in again:
        if obj["type"] == "simulation_completed":
            obj["outcome"] = "separated"
    with open(events, "ab") as f:
        f.writelines(orjson.dumps(obj) + b"\n" for obj in again)
    manifest = run_dir / "manifest.json"
    data = orjson.loads(manifest.read_bytes())
    data["sims"]["s0001"]["attempt"] = 2
    manifest.write_bytes(orjson.dumps(data))
    assert not covers_whole_log(run_dir)
    tables = assert_same_tables(run_dir)
    assert tables.sims.filter(tables.sims["sim_id"] == "s0001")["outcome"].item() == "separated"

    # The next writer brings the sidecar up to date first (the appended lines are in it).
    reopened = BatchRunner.open(run_dir)
    assert reopened.rerun("s0002")
    await run_all(reopened)
    assert covers_whole_log(run_dir)
    assert_same_tables(run_dir)

    # A log rewritten behind the sidecar's back (here: cut short and regrown) is not trusted.
    body = events.read_bytes()
    cut = body.index(b"\n", len(body) // 2) + 1
    events.write_bytes(body[:cut] + body[:cut])
    assert facts.read_facts(run_dir) is None
    writer = RunLogWriter(run_dir)  # the next writer removes it; it is not started again
    await writer.start()
    await writer.aclose()
    assert not (run_dir / FACTS).exists()


async def test_no_sidecar_is_started_for_an_existing_log(tmp_path: Path) -> None:
    runner = BatchRunner(small_spec(tmp_path))
    await run_all(runner)
    run_dir = runner.run_dir
    (run_dir / FACTS).unlink()  # as a run from before sidecars
    reopened = BatchRunner.open(run_dir)
    assert reopened.rerun("s0001")
    await run_all(reopened)
    assert not (run_dir / FACTS).exists()
    data = load_run(run_dir)
    assert data.sims.height == 3 and data.has_states


async def test_sidecar_is_scrubbed_and_has_no_free_text(tmp_path: Path) -> None:
    secret = "sk-facts-KEY-13579"
    redact.register(secret)
    writer = RunLogWriter(tmp_path)
    await writer.start()
    writer.append(StateInferred(sim_id="s0001", scene_index=0, state={
        "conflict": {"value": f"active {secret}", "evidence": "they said: evidence text"}}))
    await writer.aclose()
    body = (tmp_path / FACTS).read_bytes()
    assert secret.encode() not in body and b"[redacted]" in body
    assert b"evidence text" not in body
    (line,) = [obj for obj in facts.decode_lines(body) or [] if obj.get("type")]
    assert line["state"] == {"conflict": "active [redacted]"}


async def test_damaged_sidecar_is_not_used(tmp_path: Path) -> None:
    runner = BatchRunner(small_spec(tmp_path))
    await run_all(runner)
    run_dir = runner.run_dir
    body = (run_dir / FACTS).read_bytes()
    (run_dir / FACTS).write_bytes(body.replace(b'"type":"state_inferred"', b'"type":', 1))
    assert facts.read_facts(run_dir) is None
    (run_dir / FACTS).write_bytes(b'{"facts":99}\n' + body.split(b"\n", 1)[1])
    assert facts.read_facts(run_dir) is None
    data = load_run(run_dir)  # from the log
    assert data.sims.height == 3 and data.has_states


@pytest.mark.parametrize("kind", facts.KINDS)
def test_projection_keeps_the_event_keys(kind: str) -> None:
    obj = {"sim_id": "s1", "t": 1.0, "type": kind, "run_attempt": 2, "extra": "x"}
    out = facts.project(obj)
    assert out == {"sim_id": "s1", "type": kind, "run_attempt": 2}


def test_reading_pauses_the_collector_and_restores_it() -> None:
    from engine.batch.gctune import paused_gc

    assert gc.isenabled()
    with paused_gc():
        with paused_gc():  # nested: the outer block still finds it off
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
