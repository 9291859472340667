from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def relsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_simulate_streams_a_transcript_and_the_commitment_table() -> None:
    result = relsim(
        "simulate", "aiko", "lena-fischer", "--scenes", "2", "--beats", "1", "--seed", "4"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "SIMULATED — no LLM" in out
    assert "Scene 1:" in out and "Scene 2:" in out
    assert "Commitment log" in out and "Lena" in out


def test_bad_input_gives_one_message_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    cases = [
        (("simulate", "nobody", "aiko"), "unknown persona 'nobody'"),
        (("simulate", str(broken), "aiko"), "broken.toml: not valid TOML"),
        (("simulate", "--scenes", "0"), "--scenes must be an integer from 1 to 50"),
        (("simulate", "--beats", "99"), "--beats must be an integer from 1 to 20"),
        (("simulate", "--model", "nonsense"), "unknown model 'nonsense'"),
        (("simulate", "aiko"), "give exactly two personas"),
        (("simulate", "--scenes", "x"), "invalid int value"),
    ]
    for args, message in cases:
        result = relsim(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 or "usage:" in result.stderr
        assert "Traceback" not in result.stderr
