"""Helpers for dashboard tests: small, fast batches under tmp_path and bounded waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from engine.batch.spec import BatchSpec

SIZE = (160, 50)
PAIR3 = ["aiko-tanaka", "kwame-asante", "lena-fischer"]


def small_spec(tmp_path: Path, **overrides: Any) -> BatchSpec:
    """Three personas (three simulations), two short scenes, no simulator latency."""
    data: dict[str, Any] = {
        "name": "t", "personas": PAIR3, "scenes": 2, "beats": 1, "concurrency": 8,
        "out": str(tmp_path / "logs"),
    }
    data.update(overrides)
    return BatchSpec(**data)


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 20.0,
                   what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds (bounded; never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.05)


def screen_text(app: Any) -> str:
    """What the terminal shows, as plain text (from the app's current screen)."""
    import re
    from html import unescape

    svg = app.export_screenshot()
    rows: dict[float, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(m.group(2)), []).append((float(m.group(1)), unescape(m.group(3))))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(round(x / 12.2)) + text
        lines.append(line.replace("\xa0", " ").rstrip())
    return "\n".join(lines)


@pytest.fixture
def spec_factory(tmp_path: Path) -> Callable[..., BatchSpec]:
    return lambda **kw: small_spec(tmp_path, **kw)
