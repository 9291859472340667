"""BatchRunner: the supervisor that runs a batch's simulations, each as its own task.

* One failure never disturbs another: every simulation's exceptions stop at its own task.
* At most ``spec.concurrency`` simulations are in flight; simulations that already made progress
  (resumed ones) start before fresh ones, and no new simulation starts while the run log is
  behind (backpressure), so started work finishes first.
* States: pending → running → (waiting while the endpoint's breaker is open) → completed |
  failed(reason) | cancelled(reason); every change is a ``SimStateChanged`` event in the log.
* ``drain()`` (first Ctrl-C, dashboard quit) starts nothing new and lets each running simulation
  finish the scene it is in, then stops it as cancelled("interrupted"); ``cancel_all(
  interrupted=True)`` (second Ctrl-C) stops them at once. Interrupted simulations continue from
  their last completed scene on ``relsim resume``.
* Reruns requested while ``run()`` is running are executed by it; after ``run()`` has returned,
  call ``run()`` again to execute newly requested reruns.
* Only the runner decides a simulation's state. The model layer reports facts (an endpoint's
  breaker opened, a call is parked); the runner turns them into "waiting"/"running" for the
  simulation's current attempt, so a state change never carries an older attempt.
* ``provider=`` runs the batch on a given Provider instead of the one its spec names (tests,
  embedding); ``async with BatchRunner(spec) as runner:`` closes it (``aclose()``) on the way out.

Garbage-collector tuning is the caller's choice (``engine.batch.gctune.batch_gc``), not the
runner's: the ``relsim`` commands that run batches opt in.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import hashlib
import heapq
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.batch.bus import Callback, EventBus
from engine.batch.runlog import (
    EVENTS,
    FORMAT,
    INDEX,
    MANIFEST,
    ManifestKeeper,
    RunLogWriter,
    prompt_hash,
    public_endpoint,
)
from engine.batch.spec import BatchSpec, SimPlan, _load_cached
from engine.batch.state import BatchState, SimRow
from engine.errors import ConfigError, EndpointFatalError, StorageError
from engine.events import (
    CallParked,
    EndpointStatus,
    EventBase,
    SceneEnded,
    SimStateChanged,
)
from engine.llm.budgets import use_budgets
from engine.llm.scope import outage_timeout
from engine.llm.types import ChatRequest, ChatResult, Provider

log = logging.getLogger("relsim.batch")

INTERRUPTED = "interrupted"
LOCK = ".lock"
ACTIVE_STATES = frozenset({"running", "waiting"})
ENDED_STATES = frozenset({"completed", "failed", "cancelled"})
# Queue priorities: lower starts first.
PRIORITY_RESUMED = 0
PRIORITY_FRESH = 1


def planned_scene_calls(spec: BatchSpec) -> float:
    """Calls one scene of ``spec`` is planned to take (progress displays start from this)."""
    from engine.batch.spec import calls_per_simulation

    scenes = max(1, spec.scenes)
    return calls_per_simulation(spec.scenes, spec.beats, policy=spec.policy,
                                commitment_samples=spec.commitment_samples) / scenes


DEFAULT_DRAIN_TIMEOUT_S = 30.0


def drain_timeout() -> float:
    """Seconds a drain (first Ctrl-C) waits for scenes in progress: ``RELSIM_DRAIN_TIMEOUT``."""
    raw = os.environ.get("RELSIM_DRAIN_TIMEOUT")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_DRAIN_TIMEOUT_S
    except ValueError:
        return DEFAULT_DRAIN_TIMEOUT_S


def attempt_seed(seed: int, attempt: int) -> int:
    """The seed of a rerun's attempt: new for each attempt, reproducible from the manifest."""
    if attempt <= 1:
        return seed
    digest = hashlib.blake2b(f"{seed}|attempt|{attempt}".encode(), digest_size=4).digest()
    return int.from_bytes(digest) & 0x7FFFFFFF


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def is_resumable(state: str, reason: str | None) -> bool:
    """Unfinished work: never ended, or stopped by an interrupt (not by a user's cancel)."""
    if state in ("pending", "running", "waiting"):
        return True
    return state == "cancelled" and (reason or "").startswith(INTERRUPTED)


@dataclass(slots=True)
class _Slot:
    plan: SimPlan
    attempt: int = 1
    seed: int = 0
    state: str = "pending"
    reason: str | None = None
    task: asyncio.Task[None] | None = None
    resume_events: list[EventBase] | None = None
    cancel_reason: str | None = None
    queued: bool = False
    attempts: list[dict[str, Any]] = field(default_factory=list)


class _GatedProvider:
    """Wraps the batch's provider: every model call first waits for room in the run log, so a
    slow disk slows the engine down instead of growing memory or losing events."""

    def __init__(self, inner: Provider, writer: RunLogWriter) -> None:
        self._inner = inner
        self._writer = writer
        self.model = inner.model
        self.label = inner.label

    async def chat(self, request: ChatRequest) -> ChatResult:
        await self._writer.room()
        return await self._inner.chat(request)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self._inner.embed(texts)

    async def aclose(self) -> None:
        return None  # the inner provider may be shared; its owner closes it

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _new_run_dir(out: Path, name: str) -> tuple[Path, Path]:
    """A fresh run directory name under ``out`` and the temporary name it is built under."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{name}"
    final = out / base
    n = 1
    while final.exists():
        n += 1
        final = out / f"{base}-{n}"
    return final, out / f".{final.name}.{os.getpid()}.tmp"


class BatchRunner:
    """Runs one batch into one run directory. See the module docstring for the semantics."""

    def __init__(
        self,
        spec: BatchSpec,
        *,
        run_dir: Path | None = None,
        provider: Provider | None = None,
        allow_large: bool = False,
    ) -> None:
        self._init_common(spec)
        # Everything that can fail on bad input happens before the directory exists.
        spec.check_size(allow_large=allow_large)
        plans = spec.expand()
        self._provider = provider if provider is not None else self._resolve_provider()
        self.run_dir = self._create_run_dir(run_dir, plans)
        self._take_lock()
        for plan in plans:
            slot = _Slot(plan=plan, seed=plan.seed)
            slot.attempts.append({"attempt": 1, "seed": plan.seed, "status": "pending"})
            self._slots[plan.sim_id] = slot
            self.state.add_row(self._row(slot))
            self._push(slot, PRIORITY_FRESH)
        self._start_writer_objects()

    # -- construction --------------------------------------------------------------------------

    def _init_common(self, spec: BatchSpec) -> None:
        self.spec = spec
        self.state = BatchState(planned_scene_calls=planned_scene_calls(spec))
        self._slots: dict[str, _Slot] = {}
        self._queue: list[tuple[int, int, str]] = []
        self._order = 0
        self._active: dict[str, asyncio.Task[None]] = {}
        self._draining = False
        self._wakeup: asyncio.Event | None = None
        self._started = False
        self._lock_fd: int | None = None
        self.fatal: str | None = None
        self.storage_error: StorageError | None = None
        self.interrupted = False
        self._breaker_open = False
        self._drain_timer: asyncio.TimerHandle | None = None
        self._session_started: float | None = None

    def _resolve_provider(self) -> Provider:
        from engine.llm.registry import resolve_model

        spec = self.spec
        return resolve_model(spec.model, base_url=spec.base_url, sim=dict(spec.sim) or None,
                             embed_model=spec.embed_model)

    def _manifest_data(self, plans: list[SimPlan]) -> dict[str, Any]:
        from engine import __version__

        spec = self.spec
        return {
            "format": FORMAT,
            "relsim_version": __version__,
            "created": time.time(),
            "updated": time.time(),
            "status": "running",
            "spec": spec.model_dump(mode="json"),
            "model": spec.model,
            "model_label": self._provider.label,
            "endpoint": public_endpoint(spec.base_url),
            "seed": spec.seed,
            "prompt_hash": prompt_hash(),
            "counts": {"pending": len(plans)},
            "sims": {
                p.sim_id: {
                    **p.to_dict(),
                    "status": "pending",
                    "attempt": 1,
                    "attempts": [{"attempt": 1, "seed": p.seed, "status": "pending"}],
                }
                for p in plans
            },
        }

    def _create_run_dir(self, run_dir: Path | None, plans: list[SimPlan]) -> Path:
        if run_dir is not None:
            run_dir = Path(run_dir)
            if (run_dir / MANIFEST).exists():
                raise ConfigError(f"{run_dir} already holds a run: use BatchRunner.open()")
            if run_dir.exists() and any(run_dir.iterdir()):
                raise ConfigError(f"{run_dir} exists and is not empty")
            final, tmp = run_dir, run_dir.with_name(f".{run_dir.name}.{os.getpid()}.tmp")
        else:
            final, tmp = _new_run_dir(Path(self.spec.out), self.spec.name)
        data = self._manifest_data(plans)
        try:
            tmp.mkdir(parents=True)
        except OSError as exc:
            reason = _os_reason(exc)
            raise StorageError(f"cannot create the run directory {final}: {reason}") from None
        try:
            (tmp / EVENTS).touch()
            (tmp / INDEX).touch()
            self._manifest = ManifestKeeper(tmp / MANIFEST, data)
            self._manifest.write_sync()
            if final.exists():
                final.rmdir()  # an empty directory the caller made for us
            os.replace(tmp, final)
        except BaseException as exc:
            # Whatever went wrong, no half-made (hidden) run directory is left behind.
            with contextlib.suppress(OSError):
                for child in tmp.iterdir():
                    child.unlink()
                tmp.rmdir()
            if isinstance(exc, OSError):
                raise StorageError(
                    f"cannot create the run directory {final}: {_os_reason(exc)}"
                ) from None
            raise
        self._manifest.path = final / MANIFEST
        return final

    def _take_lock(self) -> None:
        fd = os.open(self.run_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ConfigError(f"{self.run_dir} is in use by another relsim process") from None
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _start_writer_objects(self) -> None:
        self._writer = RunLogWriter(self.run_dir)
        self._writer.on_error = self._storage_failed
        self.bus = EventBus(self._writer.append)
        self.bus.subscribe_inline(self.state.apply)
        self.bus.subscribe_inline(self._watch)
        self._gated = _GatedProvider(self._provider, self._writer)

    @classmethod
    def open(cls, run_dir: str | Path, *, provider: Provider | None = None) -> BatchRunner:
        """A runner for an existing run directory (for resume and rerun). Nothing is queued:
        call ``resume_unfinished()``, ``rerun(...)`` or ``rerun_failed()``, then ``run()``.
        ``provider`` replaces the one the run's spec names, as for ``BatchRunner(...)``."""
        from engine.batch.reader import RunReader, repair_log
        from engine.batch.spec import spec_from_dict

        run_dir = Path(run_dir)
        if not (run_dir / MANIFEST).is_file():
            raise ConfigError(f"{run_dir}: not a run directory (no {MANIFEST})")
        self = cls.__new__(cls)
        reader = RunReader(run_dir)
        manifest = reader.manifest
        self._init_common(spec_from_dict(manifest["spec"], f"{run_dir}/{MANIFEST}"))
        self.run_dir = run_dir
        self._take_lock()
        try:
            repair_log(run_dir)
            reader = RunReader(run_dir)
            self._provider = provider if provider is not None else self._resolve_provider()
            self.state = reader.state()
            self.state.planned_scene_calls = planned_scene_calls(self.spec)
            self._manifest = ManifestKeeper(run_dir / MANIFEST, manifest)
            manifest["status"] = "running"
            for sim_id, info in manifest["sims"].items():
                plan = SimPlan.from_dict(info)
                row = self.state.rows[sim_id]
                attempts = list(info.get("attempts") or [])
                slot = _Slot(plan=plan, attempt=row.attempt, state=row.state, reason=row.reason,
                             attempts=attempts)
                slot.seed = reader.attempt_seed(sim_id, row.attempt) or next(
                    (a["seed"] for a in attempts if a["attempt"] == row.attempt), plan.seed
                )
                if not any(a["attempt"] == row.attempt for a in attempts):
                    attempts.append(
                        {"attempt": row.attempt, "seed": slot.seed, "status": row.state}
                    )
                self._slots[sim_id] = slot
                self._sync_manifest(slot)
            self._reader = reader
        except BaseException:
            self._release_lock()
            raise
        self._start_writer_objects()
        return self

    def resume_unfinished(self) -> int:
        """Queue every unfinished simulation to continue after its last completed scene.
        Returns how many were queued."""
        reader = getattr(self, "_reader", None)
        if reader is None:
            from engine.batch.reader import RunReader

            reader = RunReader(self.run_dir)
        todo = [s for s in self._slots.values() if is_resumable(s.state, s.reason) and not s.task]
        histories = reader.events_many([s.plan.sim_id for s in todo])
        queued = 0
        for slot in todo:
            events = histories.get(slot.plan.sim_id, [])
            if any(getattr(e, "type", "") == "simulation_completed" for e in events):
                # It finished but the crash came before its final state was written.
                self._set_state(slot, "completed")
                continue
            if any(isinstance(e, SceneEnded) for e in events):
                slot.resume_events = events
                priority = PRIORITY_RESUMED
            else:
                slot.resume_events = None
                priority = PRIORITY_FRESH
            if slot.state != "pending":
                self._set_state(slot, "pending", INTERRUPTED)
            self._push(slot, priority)
            queued += 1
        self._reader = None
        return queued

    def _row(self, slot: _Slot) -> SimRow:
        p = slot.plan
        return SimRow(sim_id=p.sim_id, agents=(p.name_a, p.name_b), num_scenes=self.spec.scenes,
                      replicate=p.replicate, seed=slot.seed, attempt=slot.attempt)

    # -- public API ----------------------------------------------------------------------------

    def subscribe(self, callback: Callback) -> Any:
        """Receive every event (from a dispatcher task; a slow callback loses old events rather
        than slowing the engine). Returns an unsubscribe function."""
        return self.bus.subscribe(callback)

    async def run(self) -> BatchState:
        """Run until every queued simulation has ended (completed, failed or cancelled), or until
        ``drain()``/``cancel_all()``/a fatal endpoint error stops the batch."""
        await self._start()
        self._draining = self.interrupted = self.state.draining = False
        self._session_started = time.time()
        # Wall time counts this session (a rerun's, not the run's since its creation), and the
        # clock runs again after the end.
        self.state.started_at, self.state.finished_at = self._session_started, None
        assert self._wakeup is not None
        try:
            while True:
                while (
                    self._queue and not self._draining and self.fatal is None
                    and len(self._active) < self.spec.concurrency
                ):
                    await self._writer.room()  # don't start new work while the log is behind
                    if self._draining or self.fatal is not None:
                        break
                    slot = self._pop()
                    if slot is not None:
                        self._launch(slot)
                if not self._active and (not self._queue or self._draining or self.fatal):
                    break
                self._wakeup.clear()
                await self._wakeup.wait()
        finally:
            self.state.finished_at = time.time()
            if self._drain_timer is not None:
                self._drain_timer.cancel()
                self._drain_timer = None
            data = self._manifest.data
            data["wall_s"] = round(
                float(data.get("wall_s") or 0.0) + self.state.finished_at - self._session_started, 3
            )
            data["status"] = self._run_status()
            self._manifest.mark_dirty()
        if self.storage_error is None:
            try:
                await self._writer.flush(sync=True)
            except OSError as exc:
                self._storage_failed(exc)
        if self.storage_error is not None:
            raise self.storage_error
        return self.state

    def cancel(self, sim_id: str) -> bool:
        """Cancel one simulation (pending or running). False if it had already ended."""
        return self._cancel(self._get(sim_id), "cancelled")

    def cancel_all(self, *, interrupted: bool = False) -> None:
        """Cancel everything still pending or running. ``interrupted`` marks them resumable."""
        reason = INTERRUPTED if interrupted else "cancelled"
        self._draining = self.state.draining = True
        self.interrupted = self.interrupted or interrupted
        for slot in list(self._slots.values()):
            if slot.task is not None or (slot.state == "pending" and not interrupted):
                self._cancel(slot, reason)
        self._poke()

    def drain(self, timeout: float | None = None) -> None:
        """Start nothing new; running simulations stop after the scene they are in. Those
        waiting on a down endpoint cannot finish a scene and stop at once, and whatever still
        runs after ``timeout`` seconds (default ``RELSIM_DRAIN_TIMEOUT`` or 30) is stopped then:
        a drain always ends. All of them stay resumable."""
        self._draining = self.state.draining = True
        self.interrupted = True
        for slot in list(self._slots.values()):
            if slot.task is not None and slot.state == "waiting":
                self._cancel(slot, INTERRUPTED)
        if self._drain_timer is None:
            with contextlib.suppress(RuntimeError):  # no running loop: nothing is running
                self._drain_timer = asyncio.get_running_loop().call_later(
                    drain_timeout() if timeout is None else timeout,
                    lambda: self.cancel_all(interrupted=True),
                )
        self._poke()

    def rerun(self, sim_id: str, *, seed: int | None = None, same_seed: bool = False) -> bool:
        """Queue a new attempt of an ended simulation. Its seed is ``seed`` if given, the
        original seed with ``same_seed`` (reproduces the first attempt), else a new seed drawn
        for this attempt (deterministically from the original and the attempt number, and
        recorded in the manifest and the log), so that a rerun does not replay the same
        failure. False if the simulation is still pending or running."""
        slot = self._get(sim_id)
        if slot.task is not None or slot.queued or slot.state not in ENDED_STATES:
            return False
        slot.attempt += 1
        if seed is not None:
            slot.seed = seed
        elif same_seed:
            slot.seed = slot.plan.seed
        else:
            slot.seed = attempt_seed(slot.plan.seed, slot.attempt)
        slot.resume_events = None
        slot.attempts.append({"attempt": slot.attempt, "seed": slot.seed, "status": "pending"})
        self._set_state(slot, "pending")
        self.state.rows[sim_id].seed = slot.seed
        self._push(slot, PRIORITY_FRESH)
        self._manifest.mark_dirty()
        self._poke()
        return True

    def rerun_failed(self, *, seed: int | None = None, same_seed: bool = False) -> list[str]:
        """Rerun every failed simulation (seeds as in ``rerun``); returns their ids."""
        return self.rerun_where("failed", seed=seed, same_seed=same_seed)

    def rerun_where(
        self, state: str, *, seed: int | None = None, same_seed: bool = False
    ) -> list[str]:
        """Rerun every simulation in ``state`` ("failed" or "cancelled"); returns their ids."""
        ids = [s.plan.sim_id for s in self._slots.values() if s.state == state]
        return [i for i in ids if self.rerun(i, seed=seed, same_seed=same_seed)]

    def count(self, state: str) -> int:
        """How many simulations are in ``state``."""
        return sum(1 for s in self._slots.values() if s.state == state)

    async def __aenter__(self) -> BatchRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop anything still running (as interrupted), write every event, finalise the
        manifest and release the run directory."""
        try:
            if self._active:
                self.cancel_all(interrupted=True)
                await asyncio.gather(*self._active.values(), return_exceptions=True)
            if self._started:
                await self.bus.aclose()
                try:
                    await self._writer.aclose()
                except OSError as exc:
                    self._storage_failed(exc)
            self._manifest.data["status"] = self._run_status()
            try:
                if self._started:
                    await self._manifest.aclose()
                else:
                    await self._manifest.write_now()
            except OSError as exc:
                # On a full disk the status still went in place (runlog.write_manifest).
                self._storage_failed(exc)
        finally:
            self._release_lock()

    @property
    def provider(self) -> Provider:
        """The model endpoint this batch calls (shared by all of its simulations)."""
        return self._provider

    @property
    def sim_ids(self) -> list[str]:
        return list(self._slots)

    @property
    def log_stats(self) -> dict[str, int]:
        w = self._writer
        return {"written": w.written, "batches": w.batches, "fsyncs": w.fsyncs,
                "pending": w.pending, "max_pending": w.max_pending,
                "published": self.bus.published}

    # -- internals -----------------------------------------------------------------------------

    async def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self._wakeup = asyncio.Event()
        await self._writer.start()
        self.bus.start()
        self._manifest.start()
        # The initial "pending" states go in the log so it alone describes the batch.
        for slot in self._slots.values():
            if slot.state == "pending" and slot.attempt == 1 and not slot.attempts[1:]:
                self.bus.publish(
                    SimStateChanged(sim_id=slot.plan.sim_id, state="pending", attempt=1),
                    slot.attempt,
                )

    def _get(self, sim_id: str) -> _Slot:
        try:
            return self._slots[sim_id]
        except KeyError:
            raise ConfigError(f"no simulation '{sim_id}' in this run") from None

    def _poke(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    def _push(self, slot: _Slot, priority: int) -> None:
        self._order += 1
        slot.queued = True
        heapq.heappush(self._queue, (priority, self._order, slot.plan.sim_id))

    def _pop(self) -> _Slot | None:
        while self._queue:
            _, _, sim_id = heapq.heappop(self._queue)
            slot = self._slots[sim_id]
            if slot.queued:
                slot.queued = False
                return slot
        return None

    def _launch(self, slot: _Slot) -> None:
        sim_id = slot.plan.sim_id
        slot.cancel_reason = None
        # The batch's output budgets reach every call the simulation makes (a context variable).
        context = contextvars.copy_context()
        context.run(use_budgets, self.spec.max_tokens)
        slot.task = asyncio.create_task(
            self._run_one(slot), name=f"relsim-sim-{sim_id}", context=context
        )
        self._active[sim_id] = slot.task

    def _cancel(self, slot: _Slot, reason: str) -> bool:
        if slot.task is not None:
            slot.cancel_reason = reason
            slot.task.cancel()
            return True
        if slot.queued or slot.state == "pending":
            slot.queued = False
            self._set_state(slot, "cancelled", reason)
            return True
        return False

    def _set_state(self, slot: _Slot, state: str, reason: str | None = None) -> None:
        slot.state, slot.reason = state, reason
        self.bus.publish(
            SimStateChanged(sim_id=slot.plan.sim_id, state=state,  # type: ignore[arg-type]
                            attempt=slot.attempt, reason=reason),
            slot.attempt,
        )
        self._sync_manifest(slot)

    def _sync_manifest(self, slot: _Slot) -> None:
        entry = self._manifest.data["sims"][slot.plan.sim_id]
        entry["status"], entry["attempt"], entry["reason"] = slot.state, slot.attempt, slot.reason
        entry["attempts"] = slot.attempts
        for attempt in slot.attempts:
            if attempt["attempt"] == slot.attempt:
                attempt["status"], attempt["reason"] = slot.state, slot.reason
                if slot.state == "running":
                    attempt.setdefault("started", time.time())
                elif slot.state in ENDED_STATES:
                    attempt["ended"] = time.time()
        self._manifest.data["counts"] = {k: v for k, v in self.state.counts.items() if v}
        self._manifest.mark_dirty()

    def _run_status(self) -> str:
        states = [(s.state, s.reason) for s in self._slots.values()]
        if any(is_resumable(st, r) for st, r in states):
            return "interrupted"
        if any(st in ("failed", "cancelled") for st, _ in states):
            return "finished_with_failures"
        return "completed"

    def _watch(self, event: EventBase) -> None:
        """Inline fold: running simulations wait while the endpoint's breaker is open."""
        if not isinstance(event, EndpointStatus):
            return
        opened = event.breaker != "closed"
        if opened == self._breaker_open:
            return
        self._breaker_open = opened
        for slot in self._slots.values():
            if opened and slot.state == "running":
                self._set_state(slot, "waiting", event.reason)
            elif not opened and slot.state == "waiting":
                self._set_state(slot, "running")

    def _call_parked(self, slot: _Slot, event: CallParked) -> None:
        if event.parked and slot.state == "running":
            self._set_state(slot, "waiting", event.reason)
        elif not event.parked and slot.state == "waiting":
            self._set_state(slot, "running", event.reason)

    def _build(self, slot: _Slot, sink: Any) -> Any:
        from engine.sim.agent import RelationshipAgent
        from engine.sim.scene_master import SceneMaster
        from engine.sim.simulation import Simulation

        plan = slot.plan
        pa, pb = _load_cached(Path(plan.persona_a)), _load_cached(Path(plan.persona_b))
        a = RelationshipAgent(plan.name_a, pa, model=self._gated)
        b = RelationshipAgent(plan.name_b, pb, model=self._gated)
        spec = self.spec
        sm = SceneMaster(a, b, model=self._gated, plan=spec.plan, policy=spec.policy,
                         commitment_samples=spec.commitment_samples,
                         context_turns=spec.context_turns, scenarios=spec.scenarios)
        return Simulation(sm, a, b, seed=slot.seed, num_scenes=self.spec.scenes,
                          sim_id=plan.sim_id, sink=sink)

    async def _run_one(self, slot: _Slot) -> None:
        sim_id, attempt = slot.plan.sim_id, slot.attempt
        publish = self.bus.publish
        last_scene = self.spec.scenes - 1
        task = asyncio.current_task()

        def sink(event: EventBase) -> None:
            if isinstance(event, CallParked):
                # The model layer's fact, turned into this attempt's state; the state change is
                # what the log keeps.
                self._call_parked(slot, event)
                return
            publish(event, attempt)
            # Draining: the scene just ended is safely in the log; stop before the next one.
            if (
                self._draining and isinstance(event, SceneEnded)
                and event.scene_index < last_scene and task is not None
                and slot.cancel_reason is None
            ):
                slot.cancel_reason = INTERRUPTED
                task.cancel()

        self._set_state(slot, "running")
        outage_timeout.set(self.spec.outage_timeout)
        try:
            sim = self._build(slot, sink)
            if slot.resume_events:
                sim.restore(slot.resume_events)
            slot.resume_events = None
            await asyncio.sleep(0)  # a cancel issued before we started lands here
            await sim.run_auto_async(self.spec.beats)
        except asyncio.CancelledError:
            self._set_state(slot, "cancelled", slot.cancel_reason or "cancelled")
        except Exception as exc:
            if self.storage_error is not None or isinstance(exc, OSError):
                # The log cannot be written: not this simulation's failure. It stays resumable.
                if isinstance(exc, OSError):
                    self._storage_failed(exc)
                self._set_state(slot, "cancelled", f"{INTERRUPTED}: cannot write the run log")
                return
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self._set_state(slot, "failed", reason)
            if isinstance(exc, EndpointFatalError):
                self._stop_fatal(str(exc) or type(exc).__name__)
        else:
            self._set_state(slot, "completed")
        finally:
            slot.task = None
            self._active.pop(sim_id, None)
            self._poke()

    def _storage_failed(self, exc: BaseException) -> None:
        """The run log (or manifest) cannot be written: stop the batch, everything resumable."""
        if self.storage_error is not None:
            return
        reason = _os_reason(exc) if isinstance(exc, OSError) else str(exc)
        self.storage_error = StorageError(
            f"cannot write to {self.run_dir}: {reason}. Everything already written is kept; "
            f"continue with: relsim resume {self.run_dir}"
        )
        self._stop_fatal(f"cannot write the run log: {reason}")

    def _stop_fatal(self, message: str) -> None:
        if self.fatal is not None:
            return
        self.fatal = message
        # Logged below error level: the command that runs the batch reports it once itself.
        log.warning("stopping the batch: %s", message)
        self._draining = True
        for slot in self._slots.values():
            if slot.task is not None:
                self._cancel(slot, f"{INTERRUPTED}: {message}")
