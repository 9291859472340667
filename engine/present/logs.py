"""Log records on the terminal: one handler that shares stderr with the live progress line.

Records go through the same Rich console as the progress display (``stderr_console``), so while
the progress line is live Rich clears it, writes the record on a line of its own and redraws it
(no more ``…ETA 0:00:48ERROR relsim.llm: …``). Every record is scrubbed of secrets
(``engine.redact.ScrubFilter``) and of terminal control characters (model text is untrusted).
"""

from __future__ import annotations

import logging

from rich.console import Console
from rich.text import Text

from engine.redact import ScrubFilter
from engine.textsafe import printable

FORMAT = "%(levelname)s %(name)s: %(message)s"
_stderr: Console | None = None


def stderr_console() -> Console:
    """The one console on stderr: progress display, log records, the commands' messages."""
    global _stderr
    if _stderr is None:
        _stderr = Console(stderr=True, highlight=False)
    return _stderr


class ConsoleLogHandler(logging.Handler):
    """Writes records through a Rich console (literally: no markup, controls escaped)."""

    def __init__(self, console: Console | None = None, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._console = console
        self.addFilter(ScrubFilter())
        self.setFormatter(logging.Formatter(FORMAT))

    @property
    def console(self) -> Console:
        return self._console or stderr_console()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = printable(self.format(record))
            self.console.print(Text(line), soft_wrap=True, markup=False, highlight=False)
        except Exception:
            self.handleError(record)


def configure_logging(verbose: bool = False, console: Console | None = None) -> ConsoleLogHandler:
    """The process's logging: one ConsoleLogHandler on the root logger (replacing others)."""
    handler = ConsoleLogHandler(console)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING if verbose else logging.ERROR)
    return handler
