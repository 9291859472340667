"""Hostile model output and leaky servers, end to end: a loopback server (tests/hostile.py)
whose replies carry markup, ANSI/OSC escapes, bidi controls and cut-off JSON, and whose errors
echo the API key, driven through ``relsim simulate``, ``run``, ``show`` and the dashboard.
The assertions are on the bytes the commands write to the terminal (stdout and stderr of a
subprocess, as a terminal would receive them), on the run's files and on what the dashboard's
widgets render."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.hostile import FORBIDDEN, MARKUP, HostileServer
from tests.tui.conftest import SIZE, screen_text, wait_for

KEY = "sk-hostile-SECRET-4242"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer(cut_every=4, cut_purposes=("appraisal",), echo_auth_every=9,
                       fence_every=7) as s:
        yield s


def relsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "RELSIM_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    env.pop("RELSIM_MODEL", None)
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=cwd, env=env,
                          capture_output=True, timeout=180)


def assert_clean(data: bytes, what: str) -> None:
    """No escape sequence, bell or bidi control, and no key, in what reached the terminal."""
    text = data.decode("utf-8")
    found = [repr(c) for c in FORBIDDEN if c in text]
    assert not found, f"{what}: {found} reached the terminal"
    assert KEY not in text and "SECRET" not in text, f"{what}: the key reached the terminal"


def squash(data: bytes) -> bytes:
    """Without whitespace: a console that is not a terminal wraps long lines at 80 columns."""
    return re.sub(rb"\s+", b"", data)


def model_args(server: HostileServer) -> list[str]:
    # The key also rides in the URL's query string, as some gateways want it.
    return ["--model", "openai-compatible/hostile",
            "--base-url", f"{server.base_url}?api_key={KEY}"]


def test_simulate_writes_no_escapes(server: HostileServer, tmp_path: Path) -> None:
    done = relsim("-v", "simulate", "aiko", "kwame", "--scenes", "1", "--beats", "1",
                  *model_args(server), cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert_clean(done.stdout, "simulate stdout")
    assert_clean(done.stderr, "simulate stderr")
    # The hostile text is shown, literally and escaped, not dropped.
    shown = squash(done.stdout)
    assert squash(MARKUP.encode()) in shown and b"\\x1b]0;pwned\\x07" in shown
    assert b"\\u202e" in shown
    # Appraisals cut off on every attempt: the raw reply is logged at the default level,
    # escaped; the cut replies were re-asked, not accepted.
    assert b"Raw response:" in done.stderr and b"cut off" in done.stderr


@pytest.fixture(scope="module")
def hostile_run(
    server: HostileServer, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[bytes]]:
    work = tmp_path_factory.mktemp("hostile-run")
    batch = work / "batch.toml"
    batch.write_text('name = "hostile"\npersonas = ["aiko-tanaka", "kwame-asante", "jun-park"]\n'
                     'scenes = 1\nbeats = 1\nconcurrency = 3\nout = "logs"\n')
    done = relsim("run", str(batch), *model_args(server), cwd=work)
    run_dir = next((work / "logs").iterdir())
    return run_dir, done


def test_run_and_its_files(hostile_run: tuple[Path, subprocess.CompletedProcess[bytes]],
                           server: HostileServer) -> None:
    run_dir, done = hostile_run
    assert done.returncode in (0, 1), done.stderr.decode()[-2000:]
    assert_clean(done.stdout, "run stdout")
    assert_clean(done.stderr, "run stderr")
    assert server.stats["echoed"] > 0 and server.stats["cut"] > 0
    for name in ("events.jsonl", "manifest.json", "index.tsv", "facts.jsonl"):
        data = (run_dir / name).read_bytes()
        assert KEY.encode() not in data and b"SECRET" not in data, f"the key is in {name}"
    lines = [orjson.loads(x) for x in (run_dir / "events.jsonl").read_bytes().splitlines()]
    reasons = [e["reason"] for e in lines if e["type"] == "retry_warning"]
    # The server echoed "Authorization: Bearer <key>": kept as a reason, key redacted.
    assert any("Bearer [redacted]" in r for r in reasons)
    # Cut-off JSON was re-asked (never accepted), prose around one object was a counted repair.
    assert any("cut off" in r for r in reasons)
    repairs = sum(e.get("repairs", 0) for e in lines if e["type"] == "call_completed")
    assert repairs > 0 and server.stats["fenced"] > 0
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["status"] in ("completed", "finished_with_failures")


def test_show_writes_no_escapes(hostile_run: tuple[Path, subprocess.CompletedProcess[bytes]],
                                tmp_path: Path) -> None:
    run_dir, _ = hostile_run
    summary = relsim("show", str(run_dir), cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr.decode()
    assert_clean(summary.stdout + summary.stderr, "show")
    assert b"repairs" in summary.stdout
    transcript = relsim("show", str(run_dir), "s0001", cwd=tmp_path)
    assert transcript.returncode == 0, transcript.stderr.decode()
    assert_clean(transcript.stdout + transcript.stderr, "show s0001")
    assert squash(MARKUP.encode()) in squash(transcript.stdout)


async def test_dashboard_renders_no_escapes(
    hostile_run: tuple[Path, subprocess.CompletedProcess[bytes]],
) -> None:
    from tui.app import RelsimApp
    from tui.screens.batch import BatchScreen
    from tui.screens.simulation import SimulationScreen
    from tui.widgets.transcript import Transcript

    run_dir, _ = hostile_run
    app = RelsimApp(run_dir=run_dir)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "repairs" in shown
        assert not [c for c in FORBIDDEN if c in shown]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SimulationScreen), what="drill-in")
        await pilot.pause(0.3)
        lines = "\n".join(s.text for s in app.screen.query_one(Transcript).lines)
        assert MARKUP.replace(" ", "") in lines.replace(" ", "").replace("\n", "")  # literally
        assert not [repr(c) for c in FORBIDDEN if c in lines]
        assert not [c for c in FORBIDDEN if c in screen_text(app)]
        assert KEY not in screen_text(app)
