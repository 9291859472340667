"""A batch against an endpoint that answers 500 to everything always ends (item 4): waiting
simulations fail at the outage deadline with "endpoint down since HH:MM:SS", and the first
Ctrl-C/SIGTERM drains within a bounded time. ``relsim run`` runs in a subprocess against
``relsim serve --server-error 1.0`` on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.servers import sim_server  # noqa: F401  (the fixture)

REPO = Path(__file__).resolve().parents[2]


def batch_file(tmp_path: Path, base_url: str, outage: float) -> Path:
    path = tmp_path / "down.toml"
    path.write_text(
        'name = "down"\npersonas = ["aiko-tanaka", "kwame-asante", "jun-park"]\n'
        f'scenes = 1\nbeats = 1\nmodel = "openai-compatible/sim"\nbase_url = "{base_url}"\n'
        f'outage_timeout = {outage}\nout = "{tmp_path / "logs"}"\n'
    )
    return path


def start(tmp_path: Path, batch: Path, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "run", str(batch), "--no-progress"],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_outage_deadline_fails_waiting_simulations(tmp_path: Path, sim_server) -> None:  # noqa: F811
    server = sim_server(["--server-error", "1.0"])
    began = time.monotonic()
    proc = start(tmp_path, batch_file(tmp_path, server.base_url, outage=2))
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - began < 40
    assert proc.returncode == 1, err.decode()
    run_dir = next((tmp_path / "logs").iterdir())
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    reasons = [s["reason"] for s in manifest["sims"].values()]
    assert [s["status"] for s in manifest["sims"].values()] == ["failed"] * 3
    assert all(re.search(r"endpoint down since \d\d:\d\d:\d\d", r) for r in reasons), reasons
    assert manifest["status"] == "finished_with_failures"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_first_interrupt_drains_in_bounded_time(tmp_path: Path, sim_server, sig: int) -> None:  # noqa: F811
    server = sim_server(["--server-error", "1.0"])
    proc = start(tmp_path, batch_file(tmp_path, server.base_url, outage=600),
                 RELSIM_DRAIN_TIMEOUT="5")
    try:
        deadline = time.monotonic() + 30
        log = None
        while time.monotonic() < deadline:  # bounded poll: until a simulation waits
            runs = list((tmp_path / "logs").glob("*/events.jsonl"))
            log = runs[0] if runs else None
            if log is not None and b'"state":"waiting"' in log.read_bytes():
                break
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.1)
        else:
            pytest.fail("no simulation ever waited on the endpoint")
        sent = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err.decode()
    assert took < 5 + 10, f"the drain took {took:.1f} s"
    assert log is not None
    manifest = orjson.loads((log.parent / "manifest.json").read_bytes())
    assert manifest["status"] == "interrupted"
    assert b"Resume with: relsim resume" in err
