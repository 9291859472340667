"""The dashboard's transcript log: one ``RichLog`` for a whole simulation, fed in batches by
the screen's timer with the lines of ``engine.present.transcript`` (model text is literal).

RichLog wraps a line when it is written, at the width it has then; so the renderables are kept
and written again when the width changes (the transcript reflows to the pane, and lines written
before the pane had a size are not stuck at RichLog's default 78 columns)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import events
from textual.widgets import RichLog

from engine.events import EventBase
from engine.present.transcript import TranscriptRenderer

MAX_KEPT = 20_000  # renderables kept for reflow (a long simulation is a few thousand)


class Transcript(RichLog):
    """The transcript log. ``add`` appends rendered events and follows the end if it was
    there (the user scrolling up stops the follow)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(wrap=True, markup=False, highlight=False, max_lines=MAX_KEPT * 4,
                         **kwargs)  # type: ignore[arg-type]
        self.formatter = TranscriptRenderer()
        self.lines_written = 0
        self._kept: list[Any] = []
        self._width = 0

    def add(self, events: Iterable[EventBase]) -> int:
        n = 0
        for event in events:
            for renderable in self.formatter.render(event):
                self._kept.append(renderable)
                if self._width:
                    self.write(renderable, width=self._width)
                n += 1
        if len(self._kept) > MAX_KEPT:
            del self._kept[: len(self._kept) - MAX_KEPT]
        self.lines_written += n
        return n

    def on_resize(self, event: events.Resize) -> None:
        width = self.scrollable_content_region.width
        if width > 0 and width != self._width:
            self._width = width
            self._reflow()

    def _reflow(self) -> None:
        at_end = self.is_vertical_scroll_end or not self.lines
        y = self.scroll_y
        self.clear()
        for renderable in self._kept:
            self.write(renderable, width=self._width, scroll_end=False)
        if at_end and self.auto_scroll:
            self.scroll_end(animate=False, immediate=True)
        else:
            self.scroll_to(y=y, animate=False, immediate=True)
