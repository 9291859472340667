"""The HTML report in a real headless browser (Debian's Chromium): it renders with no console
errors, and the screenshot's chart regions are not blank."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from engine.cli import main
from tests.analysis.test_commands import add_method_events, make_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                "(apt-get install chromium; .ci/run installs it)")


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-dev-shm-usage", f"--user-data-dir={tmp / 'profile'}",
         "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=90, check=False,
    )


def test_report_renders_charts_without_console_errors(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    run = add_method_events(make_run(tmp_path, "r"), tmp_path)
    report = tmp_path / "report.html"
    assert main(["report", str(run), "-o", str(report)]) == 0
    url = report.as_uri()
    dom = chromium("--dump-dom", url, tmp=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count("<svg") >= 5  # the charts are in the rendered DOM
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    shot = tmp_path / "shot.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1200,1800",
                      "--hide-scrollbars", url, tmp=tmp_path)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    assert not [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    image = Image.open(shot).convert("L")
    width, height = image.size
    # The trajectory charts sit below the settings table; the screenshot's lower half holds
    # charts: each band of it must carry drawn (non-white) pixels, not a blank page.
    bands = [image.crop((0, y, width, min(y + 300, height))) for y in range(600, height, 300)]
    inked = [int((np.asarray(band) < 200).sum()) for band in bands]
    assert all(n > 500 for n in inked), inked
