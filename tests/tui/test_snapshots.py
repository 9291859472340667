"""SVG snapshots of the main screens (Textual is pinned: snapshots change between releases).

Runs are made with concurrency 1 so the log's order is deterministic, and the app is frozen
(clock-dependent figures hidden). Update with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.batch.runner import BatchRunner
from tests.tui.conftest import SIZE, small_spec
from tui.app import RelsimApp

SNAP_FAULTS = {"malformed": 0.15}


def make_run(tmp_path: Path) -> Path:
    """A finished run with a few retries (deterministic faults), made headless."""

    async def go() -> Path:
        runner = BatchRunner(small_spec(tmp_path, concurrency=1, sim=SNAP_FAULTS, seed=3))
        await runner.run()
        await runner.aclose()
        return runner.run_dir

    return asyncio.run(go())


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path)


def test_batch_screen_snapshot(snap_compare, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    app = RelsimApp(run_dir=run_dir, frozen=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_simulation_screen_snapshot(snap_compare, run_dir: Path) -> None:  # type: ignore[no-untyped-def]
    async def drill(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("down", "enter")
        await pilot.pause(0.3)
        await pilot.press("home")  # the transcript's beginning: scene 1's header
        await pilot.pause(0.1)

    app = RelsimApp(run_dir=run_dir, frozen=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=drill)


def test_launch_screen_snapshot(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def pick(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause(0.1)
        await pilot.press("f2")  # the demo batch fills the form
        await pilot.pause(0.2)

    app = RelsimApp(out_dir=tmp_path / "logs", frozen=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=pick)


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    # Two timer ticks: rows, panels and the commitment summary are painted.
    await pilot.pause(0.6)


# The sizes of issue #15: at 100×30 the footer keeps q Quit and ? Help and every row shows; at
# 200×55 the panes grow (the transcript reflows to its pane).
SMALL, LARGE = (100, 30), (200, 55)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["100x30", "200x55"])
def test_batch_screen_sizes(snap_compare, run_dir: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = RelsimApp(run_dir=run_dir, frozen=True)
    assert snap_compare(app, terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["100x30", "200x55"])
def test_simulation_screen_sizes(snap_compare, run_dir: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def drill(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("enter")
        await pilot.pause(0.4)
        await pilot.press("home")
        await pilot.pause(0.1)

    app = RelsimApp(run_dir=run_dir, frozen=True)
    assert snap_compare(app, terminal_size=size, run_before=drill)


def test_launch_screen_small(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def pick(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause(0.1)
        await pilot.press("f2")
        await pilot.pause(0.3)

    app = RelsimApp(out_dir=tmp_path / "logs", frozen=True)
    assert snap_compare(app, terminal_size=SMALL, run_before=pick)
