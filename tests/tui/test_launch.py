"""The launch screen: pick personas, see the estimate, fix inline errors, start a batch."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, Input, SelectionList, Static

from engine.batch.spec import demo_batch_path
from tests.servers import sim_server  # noqa: F401  (the fixture)
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
        assert "latency=0.2" in screen.query_one("#sim", Input).value  # the [sim] fields
        await set_input(pilot, screen, "#scenes", "1")
        await set_input(pilot, screen, "#beats", "1")
        screen.query_one("#start").scroll_visible(animate=False)  # the form scrolls
        await pilot.pause()
        await pilot.click("#start")
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        table = app.screen.query_one(SimTable)
        state = app.session.state
        await wait_for(pilot, lambda: table.row_count == 12, what="rows")
        await wait_for(pilot, lambda: state.done == 12, timeout=40, what="completion")
        assert state.counts["completed"] == 12
        assert app.session.runner.spec.sim == {"latency": 0.2, "jitter": 0.3, "malformed": 0.03}


async def test_launch_keys_focus_marks_and_files(tmp_path: Path) -> None:
    """Focus starts in the list (space picks, letters do not type into the search), Down from
    the search returns to the list, picks read ☑/☐, the count and "1 simulation" show, quit is
    in the footer; a plan of picked turning points sets policy fixed; the form saves as TOML
    and opens again; esc after a launch returns to the form."""
    from textual.widgets import Select

    from engine.batch.spec import load_batch
    from tests.tui.conftest import screen_text

    app = RelsimApp(out_dir=tmp_path / "logs", frozen=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen), what="launch")
        screen = app.screen
        personas = screen.query_one("#personas", SelectionList)
        search = screen.query_one("#search", Input)
        assert personas.has_focus
        await pilot.pause(0.3)  # the footer is laid out after the first frame
        text = screen_text(app)
        assert "☐" in text and "☑" not in text and "▐X▌" not in text
        assert "q Quit" in text and "? Help" in text
        await pilot.press("space")  # picks the first persona
        await pilot.pause()
        assert len(screen.chosen) == 1 and "☑" in screen_text(app)
        await pilot.press("o")  # the runs browser, not an "o" in the search box
        assert search.value == ""
        await wait_for(pilot, lambda: not isinstance(app.screen, LaunchScreen), what="runs")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back to launch")
        await pilot.press("slash", *"kw")
        assert search.has_focus and search.value == "kw"
        await pilot.press("down")
        assert personas.has_focus
        await pilot.press("space")
        await pilot.pause()
        assert len(screen.chosen) == 2
        assert "2 picked" in str(screen.query_one("#persona-count").render())
        await set_input(pilot, screen, "#scenes", "2")
        await set_input(pilot, screen, "#beats", "1")
        assert static_text(screen, "#estimate").startswith("1 simulation ·")
        # Turning points picked from the list become the plan; the policy turns fixed.
        points = screen.query_one("#turning-points", SelectionList)
        first, second = (str(points.get_option_at_index(i).value) for i in (0, 1))
        points.select(second)
        points.select(first)
        await pilot.pause()
        assert screen.query_one("#plan", Input).value == f"{second}, {first}"
        assert screen.query_one("#policy", Select).value == "fixed"
        await set_input(pilot, screen, "#sim", "latency=0, malformed=0.5")
        assert screen.spec is not None and screen.spec.sim == {"latency": 0.0, "malformed": 0.5}
        # Save as TOML, then open it again.
        path = tmp_path / "saved.toml"
        await pilot.press("ctrl+w")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: path.exists(), what="saved file")
        saved = load_batch(path)
        assert saved.plan == [second, first] and saved.policy == "fixed"
        assert saved.sim == {"latency": 0.0, "malformed": 0.5} and saved.scenes == 2
        await set_input(pilot, screen, "#name", "changed")
        await pilot.press("ctrl+o")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.query_one("#name", Input).value == "batch",
                       what="file loaded")
        await set_input(pilot, screen, "#sim", "latency=0")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        await pilot.press("escape")  # back to the form; the batch keeps running
        await wait_for(pilot, lambda: app.screen is screen, what="the form again")
        await app.session.shutdown()


async def test_a_remote_model_is_checked_before_the_batch_starts(
    tmp_path: Path, sim_server  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    from tests.servers import free_port

    app = RelsimApp(out_dir=tmp_path / "logs")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LaunchScreen), what="launch")
        screen = app.screen
        assert isinstance(screen, LaunchScreen)
        screen.chosen = ["aiko-tanaka", "kwame-asante"]
        await set_input(pilot, screen, "#scenes", "1")
        await set_input(pilot, screen, "#beats", "1")
        await set_input(pilot, screen, "#model", "openai-compatible/sim")
        # Nothing listens there: the check says so and the batch does not start.
        await set_input(pilot, screen, "#base_url", f"http://127.0.0.1:{free_port()}/v1")
        screen.action_start()
        await wait_for(pilot, lambda: "✖ reachable" in static_text(screen, "#errors"),
                       what="the failed check")
        assert isinstance(app.screen, LaunchScreen)
        # A live endpoint passes every check and the batch starts.
        server = sim_server()
        await set_input(pilot, screen, "#base_url", server.base_url)
        screen.action_start()
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch start")
        assert server.stats()["requests"] > 0

