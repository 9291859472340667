"""Untrusted text (model output, persona files) is shown literally: no markup, no links, no
terminal escapes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Log

from engine.events import ActionTaken, Narration
from tests.tui.conftest import SIZE, screen_text, small_spec, wait_for
from tui.app import RelsimApp
from tui.screens.batch import BatchScreen
from tui.screens.simulation import SimulationScreen
from tui.widgets.sim_table import SimTable
from tui.widgets.transcript import Transcript

INJECTION = "[bold red]x[/] [link=http://x]y[/link] \x1b[31mred"
SHOWN = "[bold red]x[/] [link=http://x]y[/link] \\x1b[31mred"


class TranscriptApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Transcript()


async def test_transcript_shows_markup_literally() -> None:
    app = TranscriptApp()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(Transcript)
        log.add([
            Narration(sim_id="s1", scene_index=0, beat=1, text=INJECTION, next_actor="A"),
            ActionTaken(sim_id="s1", scene_index=0, beat=1, agent="A", options=["o"], chosen=1,
                        inner_thoughts=INJECTION, line=INJECTION, behaviour="[i]nods[/i]"),
        ])
        await pilot.pause()
        text = "\n".join(strip.text for strip in log.lines)
        assert SHOWN in text
        assert "[i]nods[/i]" in text
        assert "\x1b" not in text
        # No link or style leaked from the text into the rendered segments.
        for strip in log.lines:
            for seg in strip:
                assert seg.style is None or (not seg.style.link and not
                                             (seg.style.color and seg.style.color.name == "red"
                                              and seg.style.bold))
        assert SHOWN in screen_text(app)


@pytest.fixture
def injected_personas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A persona directory where one persona's name carries markup and an ANSI escape: the
    simulator repeats names in its narration, so the injection reaches every panel."""
    folder = tmp_path / "personas"
    folder.mkdir()
    src = Path(__file__).resolve().parents[2] / "personas"
    shutil.copy(src / "aiko-tanaka.toml", folder / "aiko-tanaka.toml")
    text = (src / "kwame-asante.toml").read_text("utf-8")
    text = text.replace('name = "Kwame Asante"',
                        'name = "[bold red]x[/] [link=http://x]y[/link] \\u001b[31mred"')
    (folder / "evil.toml").write_text(text, "utf-8")
    monkeypatch.setenv("RELSIM_PERSONAS", str(folder))
    return folder


async def test_injection_in_live_batch_is_literal(tmp_path: Path, injected_personas: Path) -> None:
    # Three beats: the partner with the injected name gets a line whoever acts first.
    spec = small_spec(tmp_path, personas=["aiko-tanaka", "evil"], beats=3)
    app = RelsimApp(spec=spec)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen), what="batch screen")
        state = app.session.state
        await wait_for(pilot, lambda: state.done == 1, what="completion")
        await pilot.pause(0.4)
        table = app.screen.query_one(SimTable)
        assert SHOWN in table.get_cell("s0001", "pair").plain
        dialogue = app.screen.query_one("#dialogue", Log)
        assert any(SHOWN in line for line in dialogue.lines), dialogue.lines[:6]
        assert "[link=http://x]y[/link]" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SimulationScreen), what="drill-in")
        text = "\n".join(s.text for s in app.screen.query_one(Transcript).lines)
        assert SHOWN in text and "\x1b" not in text
