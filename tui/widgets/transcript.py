"""The dashboard's transcript log: one ``RichLog`` for a whole simulation, fed in batches by
the screen's timer with the lines of ``engine.present.transcript`` (model text is literal)."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import RichLog

from engine.events import EventBase
from engine.present.transcript import TranscriptRenderer


class Transcript(RichLog):
    """The transcript log. ``add`` appends rendered events and follows the end if it was
    there (the user scrolling up stops the follow)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, **kwargs)  # type: ignore[arg-type]
        self.formatter = TranscriptRenderer()
        self.lines_written = 0

    def add(self, events: Iterable[EventBase]) -> int:
        n = 0
        for event in events:
            for renderable in self.formatter.render(event):
                self.write(renderable)
                n += 1
        self.lines_written += n
        return n
