"""The relsim dashboard app: hosts the batch runner in Textual's own event loop (screen work
first: ``tui.scheduling``) and shows its state on a timer. Screens: launch, batch, simulation
(drill-in), runs. Navigation is the app's: screens post the messages of ``tui.messages`` and the
handlers here push the next screen."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from engine.errors import RelsimError
from tui import scheduling
from tui.messages import OpenRun, OpenSimulation, ShowRuns, StartBatch
from tui.pace import REFRESH_HZ, Pace
from tui.screens.batch import BatchScreen
from tui.screens.launch import LaunchScreen
from tui.screens.modals import ConfirmScreen, HelpScreen
from tui.screens.runs import RunsScreen
from tui.screens.simulation import SimulationScreen
from tui.session import Session


class RelsimApp(App[int]):
    CSS_PATH = "relsim.tcss"
    TITLE = "relsim"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(
        self,
        *,
        spec: Any = None,
        run_dir: Path | None = None,
        out_dir: Path | str = "logs",
        frozen: bool = False,
        hz: float = REFRESH_HZ,
        model: str = "sim",
        base_url: str | None = None,
    ) -> None:
        """``spec`` starts that batch; ``run_dir`` opens a past run read-only; neither opens the
        launch screen. ``frozen`` hides clock-dependent figures (for snapshots)."""
        super().__init__()
        self.initial_spec = spec
        self.launch_model = model
        self.launch_base_url = base_url or ""
        self.initial_run = Path(run_dir) if run_dir is not None else None
        self.out_dir = Path(spec.out) if spec is not None else Path(out_dir)
        self.pace = Pace(hz=hz, frozen=frozen)
        self.session: Session | None = None
        self.exit_code = 0

    # -- screens ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        scheduling.install(asyncio.get_running_loop())
        if self.initial_run is not None:
            self.open_run(self.initial_run)
        elif self.initial_spec is not None:
            self.start_batch(self.initial_spec)
        else:
            self.push_screen(LaunchScreen(self.pace, self.out_dir, self.launch_model,
                                          self.launch_base_url))

    def start_batch(self, spec: Any, *, run_dir: Path | None = None) -> Session | None:
        """Start ``spec`` in this event loop and show it."""
        if self.session is not None and self.session.running:
            self.notify("a batch is already running in this dashboard", severity="warning")
            return None
        try:
            session = Session.live(spec, run_dir=run_dir)
        except (RelsimError, OSError) as exc:  # e.g. the run directory cannot be created
            self.notify(f"cannot start the batch: {exc}", severity="error", markup=False)
            return None
        self.out_dir = Path(spec.out)
        session.start()
        self.session = session
        self.push_screen(BatchScreen(session, self.pace, self.out_dir))
        return session

    def open_run(self, run_dir: Path) -> None:
        """Show a past run, read-only, from its logs."""
        try:
            session = Session.from_run(run_dir)
        except (RelsimError, OSError, ValueError) as exc:
            self.notify(f"cannot open {run_dir}: {exc}", severity="error", markup=False)
            return
        self.push_screen(BatchScreen(session, self.pace, self.out_dir))

    @on(StartBatch)
    def _on_start_batch(self, message: StartBatch) -> None:
        self.start_batch(message.spec)

    @on(OpenRun)
    def _on_open_run(self, message: OpenRun) -> None:
        self.open_run(message.run_dir)

    @on(OpenSimulation)
    def _on_open_simulation(self, message: OpenSimulation) -> None:
        self.push_screen(SimulationScreen(message.session, message.sim_id, self.pace))

    @on(ShowRuns)
    def _on_show_runs(self, message: ShowRuns) -> None:
        self.push_screen(RunsScreen(self.out_dir))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        # Every binding of the current screen (and the app's) is also a palette command.
        seen: set[str] = set()
        for owner, bindings in ((screen, screen.BINDINGS), (self, self.BINDINGS)):
            for binding in bindings:
                if not isinstance(binding, Binding) or binding.description in seen:
                    continue
                seen.add(binding.description)

                def run(owner: Any = owner, action: str = binding.action) -> None:
                    self.call_later(owner.run_action, action)

                yield SystemCommand(f"relsim: {binding.description}", f"key: {binding.key}", run)

    # -- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """Quit; while a batch runs, ask first, then drain it so the run stays resumable."""
        if self.session is not None and self.session.running:

            def answered(yes: bool | None) -> None:
                if yes:
                    self.run_worker(self._drain_and_exit(), group="quit", exclusive=True)

            self.push_screen(
                ConfirmScreen(
                    "A batch is running. Quit? It will be drained and left resumable "
                    "(relsim resume RUN_DIR)."
                ),
                answered,
            )
            return
        await self._drain_and_exit()

    async def _drain_and_exit(self) -> None:
        if self.session is not None:
            self.notify("draining the batch…", timeout=5)
            await self.session.shutdown()
        self.exit(self.exit_code)

    async def on_unmount(self) -> None:
        # Leaving without `q` (e.g. ctrl+c): still leave the run resumable.
        if self.session is not None and self.session.runner is not None:
            await self.session.shutdown(timeout=5.0)
        scheduling.uninstall(asyncio.get_running_loop())
