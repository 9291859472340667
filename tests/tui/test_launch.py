"""The launch screen: pick personas, see the estimate, fix inline errors, start a batch."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, SelectionList, Static

from engine.batch.spec import demo_batch_path
from tests.tui.conftest import SIZE, wait_for
from tui.app import RelsimApp
from tui.screens.batch import BatchScreen
from tui.screens.launch import LaunchScreen
from tui.widgets.sim_table import SimTable


def static_text(screen: LaunchScreen, wid: str) -> str:
    return str(screen.query_one(wid, Static).render())


async def set_input(pilot, screen: LaunchScreen, wid: str, value: str) -> None:  # type: ignore[no-untyped-def]
    screen.query_one(wid, Input).value = value
    await pilot.pause()


async def test_launch_form_validates_and_starts(tmp_path: Path) -> None:
    app = RelsimApp(out_dir=tmp_path / "logs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen), what="launch")
        screen = app.screen
        assert isinstance(screen, LaunchScreen)
        assert "SIMULATED — no LLM" in static_text(screen, "#model-label")
        assert "pick at least two" in static_text(screen, "#errors")
        assert screen.query_one("#start", Button).disabled
        # Search narrows the list; space picks the highlighted persona.
        await pilot.click("#search")
        await pilot.press(*"aiko")
        personas = screen.query_one("#personas", SelectionList)
        assert personas.option_count == 1
        personas.focus()
        await pilot.press("space")
        await set_input(pilot, screen, "#search", "")
        assert personas.option_count > 3
        for wanted in ("kwame-asante", "lena-fischer"):
            personas.highlighted = next(
                i for i in range(personas.option_count)
                if personas.get_option_at_index(i).value == wanted
            )
            await pilot.press("space")
        assert screen.chosen == ["aiko-tanaka", "kwame-asante", "lena-fischer"]
        # Inline validation: out of range and not a number.
        await set_input(pilot, screen, "#scenes", "99")
        assert "scenes" in static_text(screen, "#errors")
        await set_input(pilot, screen, "#beats", "x")
        assert "beats: enter a whole number" in static_text(screen, "#errors")
        await set_input(pilot, screen, "#scenes", "2")
        await set_input(pilot, screen, "#beats", "1")
        # An unknown model or a missing base URL is caught before anything starts.
        await set_input(pilot, screen, "#model", "gpt4")
        assert "unknown model 'gpt4'" in static_text(screen, "#errors")
        await set_input(pilot, screen, "#model", "openai-compatible/m")
        assert "needs --base-url" in static_text(screen, "#errors")
        await set_input(pilot, screen, "#model", "sim")
        assert static_text(screen, "#errors") == ""
        estimate = static_text(screen, "#estimate")
        assert estimate.startswith("3 simulations") and "LLM calls" in estimate
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        table = app.screen.query_one(SimTable)
        state = app.session.state
        await wait_for(pilot, lambda: table.row_count == 3, what="rows")
        await wait_for(pilot, lambda: state.counts["completed"] == 3, what="completion")
        assert app.session.run_dir.parent == tmp_path / "logs"


async def test_launch_demo_batch(tmp_path: Path) -> None:
    """Load the shipped demo batch into the form and run it (made short: 1 scene × 1 beat;
    its personas, replicates, simulator latency and faults are kept)."""
    assert demo_batch_path().is_file()
    app = RelsimApp(out_dir=tmp_path / "logs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen), what="launch")
        screen = app.screen
        await pilot.press("f2")
        await pilot.pause()
        assert screen.query_one("#name", Input).value == "demo"
        assert len(screen.chosen) == 4
        assert static_text(screen, "#estimate").startswith("12 simulations")
        assert screen.extra["sim"]["latency"] > 0
        await set_input(pilot, screen, "#scenes", "1")
        await set_input(pilot, screen, "#beats", "1")
        await pilot.click("#start")
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        table = app.screen.query_one(SimTable)
        state = app.session.state
        await wait_for(pilot, lambda: table.row_count == 12, what="rows")
        await wait_for(pilot, lambda: state.done == 12, timeout=40, what="completion")
        assert state.counts["completed"] == 12
        assert app.session.runner.spec.sim == {"latency": 0.2, "jitter": 0.3, "malformed": 0.03}
