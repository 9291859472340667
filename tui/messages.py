"""Navigation requests. Screens post these; the app handles them (``RelsimApp``, ``@on``) and
decides which screen to show, so screens never import the app or one another."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from engine.batch.spec import BatchSpec
    from tui.session import Session


class StartBatch(Message):
    """Run ``spec`` in the dashboard and show it."""

    def __init__(self, spec: BatchSpec) -> None:
        super().__init__()
        self.spec = spec


class OpenRun(Message):
    """Show a past run, read-only, from its logs."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir


class OpenSimulation(Message):
    """Drill into one simulation of ``session``."""

    def __init__(self, session: Session, sim_id: str) -> None:
        super().__init__()
        self.session = session
        self.sim_id = sim_id


class ShowRuns(Message):
    """Browse the past runs."""
