"""Runs on disk under a careless user: rerun seeds (item 5), bad run data with one message
and its own exit code (item 6, the corruption suite), figures that agree (item 7), batch size
(item 8). Commands are run through ``engine.cli.main`` in-process."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import orjson
import pytest

from engine.batch.reader import RunReader
from engine.batch.runlist import CRASHED, list_runs
from engine.batch.runner import BatchRunner, attempt_seed
from engine.cli import EXIT_BAD_INPUT, EXIT_BAD_RUN, EXIT_STORAGE, main
from engine.events import SimulationStarted
from tests.batch.helpers import FaultyProvider, small_spec, spec_provider

BATCH = """
name = "h"
personas = ["aiko-tanaka", "kwame-asante", "jun-park"]
scenes = 2
beats = 1
seed = 3
out = "{out}"
"""


@pytest.fixture
def run_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """One finished three-simulation run (the fixture's own output is discarded)."""
    batch = tmp_path / "batch.toml"
    batch.write_text(BATCH.format(out=tmp_path / "logs"))
    assert main(["run", str(batch), "--no-progress"]) == 0
    capsys.readouterr()
    return next((tmp_path / "logs").iterdir())


def one_error(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


# -- item 5: reruns draw a new attempt seed ---------------------------------------------------


async def test_rerun_draws_a_new_seed_and_same_seed_reproduces(tmp_path: Path) -> None:
    spec = small_spec(tmp_path)
    faulty = FaultyProvider(spec_provider(spec), {"s0002"})
    async with BatchRunner(spec, provider=faulty) as runner:
        await runner.run()
    original = runner.state.rows["s0002"].seed
    async with BatchRunner.open(runner.run_dir) as again:
        assert again.rerun_failed() == ["s0002"]
        await again.run()
    reader = RunReader(runner.run_dir)
    attempts = reader.manifest["sims"]["s0002"]["attempts"]
    assert [a["seed"] for a in attempts] == [original, attempt_seed(original, 2)]
    assert attempt_seed(original, 2) != original
    started = [e for e in reader.events("s0002") if isinstance(e, SimulationStarted)]
    assert started[0].seed == attempt_seed(original, 2)  # recorded in the log too
    async with BatchRunner.open(runner.run_dir) as third:
        assert third.rerun("s0002", same_seed=True)
        await third.run()
    assert RunReader(runner.run_dir).manifest["sims"]["s0002"]["attempts"][2]["seed"] == original


def test_rerun_cli_seed_with_failed_and_cancelled(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rerun", str(run_dir), "--failed", "--seed", "7", "--no-progress"]) == 0
    capsys.readouterr()
    # Cancel everything (as the dashboard's C does), then: resume says what it can do, and
    # --cancelled reruns them.
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())

    async def cancel_all() -> None:
        async with BatchRunner.open(run_dir) as runner:
            assert runner.rerun("s0001") and runner.rerun("s0002")
            runner.cancel_all()
            await runner.run()

    import asyncio

    asyncio.run(cancel_all())
    assert main(["resume", str(run_dir), "--no-progress"]) == 1  # some are cancelled
    err = capsys.readouterr().err
    assert "resuming 0 unfinished" in err
    assert f"2 cancelled (relsim rerun {run_dir} --cancelled)" in err
    assert main(["rerun", str(run_dir), "--cancelled", "--no-progress"]) == 0
    assert "rerunning 2 simulation(s): s0001, s0002" in capsys.readouterr().err
    after = RunReader(run_dir).manifest["sims"]
    assert after["s0001"]["status"] == "completed" and after["s0001"]["attempt"] == 3
    assert manifest["sims"]["s0001"]["attempt"] == 1


# -- item 6: the corruption suite -------------------------------------------------------------

MANIFESTS = {
    "list": b"[]",
    "empty object": b"{}",
    "no sims": orjson.dumps({"spec": {"name": "x"}, "status": "completed"}),
    "sims a list": orjson.dumps({"spec": {}, "sims": []}),
    "sim not an object": orjson.dumps({"spec": {}, "sims": {"s0001": 3}}),
    "sim without names": orjson.dumps({"spec": {}, "sims": {"s0001": {"seed": 1}}}),
    "seed a string": None,  # built from the real manifest below
    "not JSON": b'{"spec": {',
}


@pytest.mark.parametrize("variant", list(MANIFESTS))
@pytest.mark.parametrize("command", ["show", "show-sim", "export", "resume", "rerun", "runs"])
def test_bad_manifest_one_message(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                  variant: str, command: str) -> None:
    events_before = (run_dir / "events.jsonl").read_bytes()
    data = MANIFESTS[variant]
    if data is None:
        manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
        manifest["sims"]["s0001"]["seed"] = "three"
        data = orjson.dumps(manifest)
    (run_dir / "manifest.json").write_bytes(data)
    argv = {"show": ["show", str(run_dir)], "show-sim": ["show", str(run_dir), "s0001"],
            "export": ["export", str(run_dir)], "resume": ["resume", str(run_dir)],
            "rerun": ["rerun", str(run_dir), "--failed"],
            "runs": ["runs", "--out", str(run_dir.parent)]}[command]
    code = main(argv)
    if command == "runs":  # a listing skips what it cannot read, or lists it
        assert code == 0
        capsys.readouterr()
    else:
        assert code == EXIT_BAD_RUN
        one_error(capsys, "unreadable manifest")
    assert (run_dir / "events.jsonl").read_bytes() == events_before  # nothing lost
    assert (run_dir / "manifest.json").read_bytes() == data


@pytest.mark.parametrize("command", ["show", "resume", "export", "rerun"])
def test_missing_event_log(run_dir: Path, capsys: pytest.CaptureFixture[str],
                           command: str) -> None:
    (run_dir / "events.jsonl").unlink()
    manifest = (run_dir / "manifest.json").read_bytes()
    extra = ["--failed"] if command == "rerun" else []
    assert main([command, str(run_dir), *extra]) == EXIT_BAD_RUN
    one_error(capsys, "events.jsonl is missing")
    assert (run_dir / "manifest.json").read_bytes() == manifest


def test_wrong_event_line_is_skipped_and_counted(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = RunReader(run_dir).scene_rows()
    with open(run_dir / "events.jsonl", "ab") as f:
        f.write(b'{"type":"scene_ended","sim_id":"s0001","scene_index":0,"run_attempt":1}\n')
        f.write(b'{"type":"simulation_started","sim_id":"s0002","seed":"x","run_attempt":1}\n')
    assert main(["export", str(run_dir)]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1 + len(good)  # every good row still exported
    assert "skipped 1 unreadable line(s)" in captured.err
    assert main(["show", str(run_dir)]) == 0
    assert "skipped 2 unreadable line(s)" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["show", "export", "resume"])
def test_a_file_instead_of_a_run_directory(run_dir: Path, capsys: pytest.CaptureFixture[str],
                                           command: str) -> None:
    assert main([command, str(run_dir / "manifest.json")]) == EXIT_BAD_INPUT
    one_error(capsys, "not a run directory")


def test_export_into_a_missing_folder(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = run_dir.parent / "no-such-folder" / "out.csv"
    assert main(["export", str(run_dir), "-o", str(target)]) == EXIT_STORAGE
    one_error(capsys, "does not exist")
    assert not target.parent.exists()


def test_huge_seed_is_one_message_and_no_tmp_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "batch.toml"
    batch.write_text(BATCH.format(out=tmp_path / "logs"))
    assert main(["run", str(batch), "--seed", str(2**70), "--no-progress"]) == EXIT_BAD_INPUT
    one_error(capsys, "seed")
    assert not (tmp_path / "logs").exists() or not list((tmp_path / "logs").iterdir())
    assert main(["rerun", str(tmp_path), "--failed", "--seed", str(2**70)]) == EXIT_BAD_INPUT
    one_error(capsys, "--seed")


def test_big_batch_refused_with_its_size(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    batch = tmp_path / "big.toml"
    batch.write_text(f'personas = "all"\nreplicates = 10000\nout = "{tmp_path / "logs"}"\n')
    assert main(["run", str(batch)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "simulations, about" in err and "model calls" in err and "--yes" in err
    assert not (tmp_path / "logs").exists()


# -- item 7: figures --------------------------------------------------------------------------


def wall_line(out: str) -> str:
    return next(line for line in out.splitlines() if "wall time" in line)


def test_show_wall_time_is_the_runs_own(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    wall = manifest["wall_s"]
    assert 0 < wall < 60
    outputs = []
    for _ in range(2):
        assert main(["show", str(run_dir)]) == 0
        outputs.append(wall_line(capsys.readouterr().out))
    assert outputs[0] == outputs[1] and f"{wall:.1f} s" in outputs[0]
    # A rerun's wall time counts its own session, not the time since the run was created.
    manifest["created"] -= 3600
    (run_dir / "manifest.json").write_bytes(orjson.dumps(manifest))
    assert main(["rerun", str(run_dir), "--sim", "s0001", "--no-progress"]) == 0
    seconds = float(wall_line(capsys.readouterr().out).split("│")[2].split()[0])
    assert seconds < 60
    assert orjson.loads((run_dir / "manifest.json").read_bytes())["wall_s"] > wall


def test_runs_and_show_agree_on_a_crashed_run(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    manifest["status"] = "running"  # as a kill -9 leaves it
    (run_dir / "manifest.json").write_bytes(orjson.dumps(manifest))
    assert list_runs(run_dir.parent)[0].status == CRASHED
    assert main(["show", str(run_dir)]) == 0
    assert f"status: {CRASHED}" in capsys.readouterr().out
    # While a process holds the run, both say running.
    fd = os.open(run_dir / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert list_runs(run_dir.parent)[0].status == "running"
        assert main(["show", str(run_dir)]) == 0
        assert "status: running" in capsys.readouterr().out
    finally:
        os.close(fd)


def test_show_missing_attempt(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(run_dir), "s0001", "--attempt", "3"]) == EXIT_BAD_INPUT
    one_error(capsys, "s0001 has no attempt 3 (attempts: 1)")
    assert main(["show", str(run_dir), "s0001", "--attempt", "1"]) == 0


def test_corrupt_copy_leaves_the_original_alone(run_dir: Path) -> None:
    """The corruption tests above work on copies of one fixture run: a sanity check that the
    fixture itself reads back whole."""
    copy = run_dir.parent / "copy"
    shutil.copytree(run_dir, copy)
    assert len(RunReader(copy).scene_rows()) == 3 * 2 * 2
