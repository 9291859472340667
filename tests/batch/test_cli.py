"""The batch commands: bad input, the happy path, and kill -9 → resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.batch.reader import RunReader
from engine.batch.runlog import EVENTS
from engine.batch.runner import BatchRunner
from engine.batch.spec import load_batch
from engine.cli import main
from engine.events import SceneEnded, SceneStarted, SimStateChanged
from tests.batch.helpers import logs_of

REPO = Path(__file__).resolve().parents[2]

BATCH = """
name = "k"
personas = ["aiko-tanaka", "kwame-asante", "jun-park"]
replicates = 2
scenes = 3
beats = 1
seed = 11
concurrency = 3
out = "{out}"
[sim]
latency = 0.03
malformed = 0.05
"""


def write_batch(tmp_path: Path, text: str = BATCH) -> Path:
    path = tmp_path / "batch.toml"
    path.write_text(text.format(out=tmp_path / "logs"))
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "{dir}/missing.toml"], "no such batch file"),
        (["run", "{bad}"], "scenes: Input should be less than or equal to 50"),
        (["run", "{good}", "--concurrency", "0"], "concurrency: Input should be greater"),
        (["run", "{good}", "--model", "nonsense-model"], "unknown model"),
        (["run", "{good}", "--seed", "abc"], "invalid int value"),
        (["run"], "the following arguments are required"),
        (["resume", "{dir}"], "not a run directory"),
        (["rerun", "{dir}"], "one of the arguments --failed --cancelled --sim is required"),
        (["show", "{dir}/nope"], "not a run directory"),
    ],
)
def test_bad_input_exits_2_without_a_run_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    good = write_batch(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text(f'scenes = 99\nout = "{tmp_path / "logs"}"\n')
    argv = [a.format(dir=tmp_path, good=good, bad=bad) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        sys.exit(main(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) <= 2 and "Traceback" not in err
    assert not (tmp_path / "logs").exists()


def test_run_show_runs_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch = write_batch(tmp_path, BATCH.replace("latency = 0.03", "latency = 0.0"))
    assert main(["run", str(batch), "--no-progress"]) == 0
    run_dir = next((tmp_path / "logs").iterdir())
    out = capsys.readouterr().out
    assert "completed" in out and str(run_dir) in out
    assert main(["runs", "--out", str(tmp_path / "logs")]) == 0
    assert "completed" in capsys.readouterr().out
    assert main(["show", str(run_dir)]) == 0
    assert "s0006" in capsys.readouterr().out
    assert main(["show", str(run_dir), "s0002"]) == 0
    assert "Commitment log" in capsys.readouterr().out
    csv_path = tmp_path / "scores.csv"
    assert main(["export", str(run_dir), "--format", "csv", "-o", str(csv_path)]) == 0
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 1 + 6 * 3 * 2 and lines[0].startswith("run,sim_id,attempt")
    assert main(["export", str(run_dir), "--format", "jsonl"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 36
    assert main(["rerun", str(run_dir), "--failed", "--no-progress"]) == 0  # nothing failed
    assert main(["rerun", str(run_dir), "--sim", "s0001", "--no-progress"]) == 0
    assert RunReader(run_dir).manifest["sims"]["s0001"]["attempt"] == 2


def _wait_for_scenes(path: Path, n: int, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b'"type":"scene_ended"') >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"relsim run ended early with {proc.returncode}")
        time.sleep(0.01)
    pytest.fail(f"no {n} scene_ended events in time")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Commitment logs of an uninterrupted run of the same batch (in-process)."""
    import asyncio

    tmp = tmp_path_factory.mktemp("ref")
    spec = load_batch(write_batch(tmp))

    async def go() -> Path:
        runner = BatchRunner(spec)
        await runner.run()
        await runner.aclose()
        return runner.run_dir

    return logs_of(RunReader(asyncio.run(go())))


@pytest.mark.parametrize("kill_after", [0, 3, 10])
def test_kill_9_then_resume(tmp_path: Path, reference: dict, kill_after: int) -> None:
    batch = write_batch(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "engine.cli"]
    proc = subprocess.Popen([*cmd, "run", str(batch), "--no-progress"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    try:
        def made() -> list[Path]:  # the run directory appears, complete, by a rename
            return [p for p in (tmp_path / "logs").glob("*/events.jsonl")
                    if not p.parent.name.startswith(".")]

        while not made():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.01)
        events = made()[0]
        if kill_after:
            _wait_for_scenes(events, kill_after, proc, deadline)
        else:
            time.sleep(0.3)  # mid-way through the first scenes
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    run_dir = events.parent
    done = subprocess.run([*cmd, "resume", str(run_dir), "--no-progress"], cwd=REPO, env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    reader = RunReader(run_dir)
    assert logs_of(reader) == reference
    raw = [line for line in (run_dir / EVENTS).read_bytes().splitlines() if line]
    import orjson

    objs = [orjson.loads(line) for line in raw]
    for sim_id in reader.sim_ids():
        completed = [o for o in objs if o["sim_id"] == sim_id and o["type"] == "sim_state"
                     and o["state"] == "completed"]
        assert len(completed) == 1, sim_id
        ended = [o["scene_index"] for o in objs if o["sim_id"] == sim_id
                 and o["type"] == "scene_ended"]
        assert sorted(ended) == [0, 1, 2], (sim_id, ended)  # no scene logged twice
        clean = reader.events(sim_id)
        assert [e.scene_index for e in clean if isinstance(e, SceneStarted)] == [0, 1, 2]
        assert [e.scene_index for e in clean if isinstance(e, SceneEnded)] == [0, 1, 2]
        assert [e.state for e in clean if isinstance(e, SimStateChanged)][-1] == "completed"
    assert reader.manifest["status"] == "completed"
