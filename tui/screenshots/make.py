"""Regenerate the README screenshots: the demo batch, live, a few seconds in.

    .venv/bin/python tui/screenshots/make.py   # writes tui/screenshots/*.svg

Runs in a temporary directory (the run is thrown away); needs no terminal.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

SIZE = (160, 50)
SECONDS = 7.0


async def main() -> None:
    from engine.batch.spec import demo_batch_path, load_batch
    from tui.app import RelsimApp
    from tui.screens.batch import BatchScreen

    logging.disable(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        spec = load_batch(demo_batch_path()).model_copy(update={"out": tmp})
        app = RelsimApp(spec=spec)
        async with app.run_test(size=SIZE) as pilot:
            while not isinstance(app.screen, BatchScreen):
                await pilot.pause(0.05)
            start = time.monotonic()
            while time.monotonic() - start < SECONDS:
                await pilot.pause(0.1)
            await pilot.press("down", "down")
            await pilot.pause(0.6)
            (HERE / "batch.svg").write_text(app.export_screenshot(title="relsim — batch"))
            await pilot.press("enter")
            await pilot.pause(0.6)
            (HERE / "simulation.svg").write_text(
                app.export_screenshot(title="relsim — simulation"))
            await app.session.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
