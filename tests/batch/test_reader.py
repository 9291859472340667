"""The run log on disk: torn lines, an index that lags the events, fast single-sim reads."""

from __future__ import annotations

from pathlib import Path

from engine.batch.reader import RunReader, repair_log
from engine.batch.runlog import EVENTS, INDEX
from engine.batch.runner import BatchRunner
from engine.events import SceneEnded
from tests.batch.helpers import count_lines, logs_of, small_spec


async def finished_run(tmp_path: Path, **kw: object) -> Path:
    runner = BatchRunner(small_spec(tmp_path, **kw))
    await runner.run()
    await runner.aclose()
    return runner.run_dir


async def test_torn_last_line_and_lagging_index(tmp_path: Path) -> None:
    run_dir = await finished_run(tmp_path)
    expected = logs_of(RunReader(run_dir))
    lines = count_lines(run_dir / EVENTS)
    # A crash mid-write: half a line at the end, and the last write's index lines missing.
    with open(run_dir / EVENTS, "ab") as f:
        f.write(b'{"sim_id":"s0001","type":"narrat')
    index = (run_dir / INDEX).read_bytes().splitlines(keepends=True)
    cut = max(i for i, line in enumerate(index[:-1]) if line.startswith(b"*\t"))
    (run_dir / INDEX).write_bytes(b"".join(index[: cut + 1]) + b"s0002\t1\t12")
    reader = RunReader(run_dir)
    assert logs_of(reader) == expected
    assert reader.state().counts["completed"] == 3
    repair_log(run_dir)
    assert count_lines(run_dir / EVENTS) == lines
    assert (run_dir / EVENTS).read_bytes().endswith(b"\n")
    assert logs_of(RunReader(run_dir)) == expected
    assert RunReader(run_dir).load_index()  # parses after repair


async def test_events_come_from_the_index_only(tmp_path: Path) -> None:
    run_dir = await finished_run(tmp_path, replicates=3)
    reader = RunReader(run_dir)
    spans = reader.spans("s0004")
    assert spans and all(a == 1 for a, _, _ in spans)
    events = reader.events("s0004")
    assert {e.sim_id for e in events} == {"s0004"}
    assert [e.scene_index for e in events if isinstance(e, SceneEnded)] == [0, 1]
    rows = reader.scene_rows()
    assert len(rows) == 9 * 2 * 2
    assert {r["agent"] for r in rows if r["sim_id"] == "s0001"} == {"Aiko Tanaka", "Kwame Asante"}


async def test_logged_events_keep_their_own_fields(tmp_path: Path) -> None:
    """The log's rerun number must not clobber an event's own ``attempt`` (retry n/3)."""
    run_dir = await finished_run(tmp_path, sim={"malformed": 0.3})
    reader = RunReader(run_dir)
    retries = [e for s in reader.sim_ids() for e in reader.events(s) if e.type == "retry_warning"]
    assert retries and {r.attempt for r in retries} >= {1, 2}
