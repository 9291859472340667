"""A full disk mid-run, then mid-resume (item 6): one clear message, exit code 4, the manifest
not left "running", nothing already written lost — and the run resumes once there is room.
The disk is a small tmpfs mounted for the test (needs root); elsewhere the test is skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from engine.cli import EXIT_STORAGE
from tests.analysis.test_facts import assert_same_tables

REPO = Path(__file__).resolve().parents[2]
BATCH = """
name = "full"
personas = ["aiko-tanaka", "kwame-asante", "jun-park"]
replicates = 10
scenes = 4
beats = 2
concurrency = 4
out = "{out}"
"""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=384k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def resize(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def relsim(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args, "--no-progress"],
                          cwd=REPO, capture_output=True, timeout=120)


def check_stopped(done: subprocess.CompletedProcess[bytes], run_dir: Path) -> bytes:
    err = done.stderr.decode()
    assert done.returncode == EXIT_STORAGE, err
    assert "Traceback" not in err
    messages = [line for line in err.splitlines() if line.startswith("relsim:")]
    assert len(messages) == 1 and "No space left on device" in messages[0], err
    assert f"relsim resume {run_dir}" in messages[0]
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["status"] == "interrupted"
    events = (run_dir / "events.jsonl").read_bytes()
    assert events.endswith(b"\n")
    for line in events.splitlines():  # no torn line left behind
        orjson.loads(line)
    assert not list(run_dir.glob(".*.tmp"))
    return events


def test_disk_full_during_run_and_resume(small_disk: Path, tmp_path: Path) -> None:
    batch = tmp_path / "batch.toml"
    batch.write_text(BATCH.format(out=small_disk / "logs"))
    first = relsim("run", str(batch))
    run_dir = next((small_disk / "logs").iterdir())
    written = check_stopped(first, run_dir)

    # A little room (the whole run needs several times the first disk): the resume fills it again.
    resize(small_disk, "448k")
    second = relsim("resume", str(run_dir))
    again = check_stopped(second, run_dir)
    assert again.startswith(written)  # nothing the first run wrote was lost

    resize(small_disk, "16m")
    third = relsim("resume", str(run_dir))
    assert third.returncode == 0, third.stderr.decode()
    final = (run_dir / "events.jsonl").read_bytes()
    assert final.startswith(again)
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["status"] == "completed"
    assert {s["status"] for s in manifest["sims"].values()} == {"completed"}
    # The analysis sidecar, cut back with the log after each failed write, still agrees.
    assert_same_tables(run_dir)
