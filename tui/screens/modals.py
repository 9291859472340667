"""Small modal screens: a yes/no confirmation and the help text."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="question", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


HELP = """\
relsim dashboard

Batch screen
  ↑/↓, PgUp/PgDn   move through simulations      s / S                sort by next column / flip
  enter            open the transcript            click a header       sort by it (again: flip)
  c                cancel the selected simulation C                    cancel all (asks first)
  r                rerun the selected (asks if it completed)           /  filter (state:failed)
  R                rerun failed and cancelled     u                    resume a past run
  d                dialogue: selected ↔ all       e                    export (as relsim export)
  w                read the retry warnings whole  a                    analytics
  o                browse past runs               ?                    this help
  escape           clear the filter / back        q                    quit (drains, resumable)
  Actions that cannot apply (e.g. cancel when nothing runs) are hidden from the footer.

Simulation screen
  escape / b       back                           c / r                cancel / rerun it
  end              follow the transcript again

Launch screen
  ctrl+s           start the batch                /                    search personas
  space            pick / unpick a persona        ctrl+o / ctrl+w      open / save a batch file
  f2               load the demo batch            o                    browse past runs

Every action is also in the command palette (ctrl+p). Model text is shown literally.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss_help", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(HELP, id="help-text", markup=False)
            yield Button("Close", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """Long text to read whole (e.g. retry warnings), scrollable, wrapped to the window."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,w", "close", "Close"),
    ]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="text-dialog"):
            yield Label(self.title_text, id="text-title", markup=False)
            with VerticalScroll(id="text-scroll"):
                yield Static(self.body, id="text-body")
            yield Button("Close (esc)", id="close")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class PathScreen(ModalScreen[str | None]):
    """Ask for a file path (open or save a batch file). Dismisses with the path or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, question: str, value: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="question", markup=False)
            yield Input(self.value, placeholder="path/to/batch.toml", id="path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
