"""What a batch screen shows: a live ``BatchRunner`` hosted in the app's event loop, or a past
run read back from its log directory. Screens talk to this, never to simulations."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from engine.batch.state import BatchState
from engine.errors import RelsimError
from engine.events import EventBase
from tui.scheduling import batch_context

if TYPE_CHECKING:
    from engine.batch.runner import BatchRunner
    from engine.batch.spec import BatchSpec

# The run log is flushed about once a second; a drill-in opened meanwhile finds the newest
# events here (at 5,000 events/s this is a few seconds' worth).
RECENT_EVENTS = 20_000

T = TypeVar("T")


def new_items(items: Iterable[T], last: T | None) -> tuple[list[T], T | None]:
    """Items appended to a bounded deque since ``last`` (by identity), oldest first."""
    fresh: list[T] = []
    for item in reversed(items):  # type: ignore[call-overload]
        if item is last:
            break
        fresh.append(item)
    fresh.reverse()
    return fresh, (fresh[-1] if fresh else last)


def event_key(event: EventBase) -> tuple[Any, ...]:
    # Events carry their creation time (round-trips exactly through JSON): with the type and
    # simulation it identifies an event read back from disk.
    return (getattr(event, "type", ""), event.sim_id, event.t)


class Session:
    """A batch being shown. ``runner`` is None for a read-only past run."""

    def __init__(
        self,
        state: BatchState,
        *,
        title: str,
        model: str,
        run_dir: Path | None,
        runner: BatchRunner | None = None,
    ) -> None:
        self.state = state
        self.title = title
        self.model = model
        self.run_dir = run_dir
        self.runner = runner
        self.task: asyncio.Task[Any] | None = None
        self.error: str | None = None
        self.closed = False
        self.recent: deque[EventBase] = deque(maxlen=RECENT_EVENTS)
        self._unsubscribe: Callable[[], None] | None = None
        self.offset: int | None = None  # read-only runs: how far the log has been read
        self.writer_alive = False
        if runner is not None:
            self._unsubscribe = runner.subscribe(self.recent.append)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def live(cls, spec: BatchSpec, *, run_dir: Path | None = None) -> Session:
        from engine.batch.runner import BatchRunner

        runner = BatchRunner(spec, run_dir=run_dir)
        return cls(runner.state, title=spec.name, model=spec.model, run_dir=runner.run_dir,
                   runner=runner)

    @classmethod
    def from_run(cls, run_dir: Path) -> Session:
        """A past run, read-only. Its log is followed (read from the last offset on each
        ``poll``), so a run another process is writing stays current."""
        from engine.batch.reader import RunReader

        reader = RunReader(run_dir)
        spec = _manifest_spec(reader.manifest)
        session = cls(reader.rows_state(), title=str(spec.get("name", run_dir.name)),
                      model=str(spec.get("model", "sim")), run_dir=Path(run_dir))
        session.offset = 0
        session.poll(initial=True)
        return session

    # -- following a run written by another process -------------------------------------------

    @property
    def following(self) -> bool:
        """True while another process holds this read-only run (it is being written)."""
        return self.runner is None and self.writer_alive

    def poll(self, *, initial: bool = False) -> int:
        """Fold the events appended to the run log since the last poll (read-only runs only).
        Returns how many were read."""
        if self.runner is not None or self.run_dir is None or self.offset is None:
            return 0
        from engine.batch.reader import read_manifest, read_new_events
        from engine.batch.runlist import is_locked

        state = self.state
        events: list[EventBase] = []
        while True:  # the whole log at first; then what one read brings per poll
            chunk, self.offset = read_new_events(self.run_dir, self.offset)
            if chunk and initial and not events:
                state.started_at = chunk[0].t
            for event in chunk:
                state.apply(event)
            events = chunk if not initial else events + chunk[-1:]
            if not initial or not chunk:
                break
        if not initial:
            self.recent.extend(events)
        self.writer_alive = is_locked(self.run_dir)
        if self.writer_alive:
            state.finished_at = None
        elif state.finished_at is None or events:
            # A past run's clock stops at its last manifest update, not at "now".
            try:
                updated = read_manifest(self.run_dir).get("updated")
            except (RelsimError, OSError):
                updated = None
            last = events[-1].t if events else state.started_at
            state.finished_at = float(updated) if updated else last
        return len(events)

    def go_live(self) -> BatchRunner:
        """Take over this past run (its lock) so it can be resumed or rerun here; from now on
        it is a live session. Raises RelsimError if another process holds it."""
        if self.runner is not None:
            return self.runner
        from engine.batch.runner import BatchRunner

        assert self.run_dir is not None
        runner = BatchRunner.open(self.run_dir)
        self.runner = runner
        self.state = runner.state
        self.offset = None
        self.closed = False
        self._unsubscribe = runner.subscribe(self.recent.append)
        return runner

    def resume(self) -> int:
        """Resume the unfinished simulations (a past run becomes live). Returns how many."""
        runner = self.go_live()
        queued = runner.resume_unfinished()
        if queued and not self.running:
            self.start()
        return queued

    @property
    def resumable(self) -> list[str]:
        from engine.batch.runner import is_resumable

        return [r.sim_id for r in self.state.rows.values() if is_resumable(r.state, r.reason)]

    # -- running ---------------------------------------------------------------------------

    @property
    def live_mode(self) -> bool:
        return self.runner is not None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self) -> None:
        """Run the batch as a task in the current (Textual's) event loop, marked as batch work
        (the screen's callbacks go first: ``tui.scheduling``)."""
        assert self.runner is not None
        self.task = asyncio.get_running_loop().create_task(self._run(), context=batch_context())

    async def _run(self) -> None:
        try:
            await self._live().run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown in the header; the run dir stays resumable
            self.error = f"{type(exc).__name__}: {exc}"

    # Commands. The runner's commands are synchronous (they only queue work for run()).

    def _live(self) -> BatchRunner:
        assert self.runner is not None, "a read-only run takes no commands"
        return self.runner

    def cancel(self, sim_id: str) -> bool:
        return self._live().cancel(sim_id)

    def cancel_all(self) -> None:
        self._live().cancel_all()

    @property
    def draining(self) -> bool:
        return self.running and self.state.draining

    def rerun(self, sim_ids: list[str] | None) -> list[str]:
        """Rerun the given simulations (None: every failed one); restarts the run loop if it
        had ended. A past run becomes live. Returns the ids actually queued."""
        runner = self.go_live() if self.runner is None else self.runner
        if sim_ids is None:
            queued = runner.rerun_failed()
        else:
            queued = [s for s in sim_ids if runner.rerun(s)]
        if queued and not self.running:
            self.start()
        return queued

    async def shutdown(self, timeout: float = 15.0) -> None:
        """Drain (start nothing new, stop each simulation after its current scene, leave the
        run resumable) and close the runner. Safe to call twice."""
        if self.runner is None or self.closed:
            return
        self.closed = True
        if self.running:
            self.runner.drain()
            assert self.task is not None
            try:
                await asyncio.wait_for(asyncio.shield(self.task), timeout)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()
                await asyncio.gather(self.task, return_exceptions=True)
        await self.runner.aclose()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- events of one simulation (drill-in) -------------------------------------------------

    def events(self, sim_id: str) -> tuple[list[EventBase], set[tuple[Any, ...]]]:
        """Every event of ``sim_id`` so far: the run log, plus the newest not yet flushed from
        ``recent``. Also returns the keys of the events read from disk (for de-duplication)."""
        events: list[EventBase] = []
        if self.run_dir is not None and self.run_dir.is_dir():
            try:
                from engine.batch.reader import RunReader

                events = list(RunReader(self.run_dir).events(sim_id))
            except (OSError, ValueError, RelsimError):  # a run dir still being created
                events = []
        disk = {event_key(e) for e in events}
        events.extend(e for e in self.recent if e.sim_id == sim_id and event_key(e) not in disk)
        return events, disk


def _manifest_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    spec = manifest.get("spec")
    return spec if isinstance(spec, dict) else {}
