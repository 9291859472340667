"""Small modal screens: a yes/no confirmation and the help text."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


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
  ↑/↓, PgUp/PgDn   move through simulations      click a header / s   sort
  enter            open the transcript            /                    filter (text; state:failed)
  c                cancel the selected simulation C                    cancel all (asks first)
  r                rerun the selected simulation  R                    rerun all failed (asks first)
  d                dialogue: selected ↔ all       e                    export the commitment table
  o                browse past runs               ?                    this help
  q                quit (a running batch is drained and left resumable)

Simulation screen
  escape / b       back                           c / r                cancel / rerun it
  end              follow the transcript again

Launch screen
  ctrl+s           start the batch                o                    browse past runs

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
