"""Calls per second and the progress and ETA of a batch, computed one way for every display.

Progress is counted in model calls, per simulation: each unfinished simulation still owes the
calls of its remaining scenes (at the pace scenes have really taken so far, else the spec's
plan) less the calls already made in the scene it is in. So the ETA moves from the first call,
an ended simulation owes nothing, a draining batch owes only the scenes in progress, and a
resumed run owes only what is left — and the rate is this display's own, not the old run's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from engine.batch.state import BatchState

ENDED = ("completed", "failed", "cancelled")
ACTIVE = ("running", "waiting")
# Observed calls per scene replace the plan once this many scenes have ended.
PACE_AFTER_SCENES = 3


class CallRate:
    """Calls per second from samples taken on a display's timer: ``sample`` returns the rate
    over the last ``window_s`` (the figure shown); ``steady`` is the rate over the last
    ``steady_s`` (for the ETA, which should not jump with every burst)."""

    def __init__(self, window_s: float = 5.0, steady_s: float = 30.0) -> None:
        self.window_s = window_s
        self.steady_s = max(steady_s, window_s)
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float, calls: int) -> float:
        self._samples.append((now, calls))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.steady_s:
            self._samples.popleft()
        return self._rate(self.window_s)

    def _rate(self, window: float) -> float:
        if not self._samples:
            return 0.0
        now, calls = self._samples[-1]
        t0, c0 = self._samples[0]
        for t, c in self._samples:
            if now - t <= window:
                t0, c0 = t, c
                break
        if now <= t0 and len(self._samples) > 1:  # one sample in the window: use the last two
            t0, c0 = self._samples[-2]
        return (calls - c0) / (now - t0) if now > t0 else 0.0

    @property
    def steady(self) -> float | None:
        """Calls/s over the steady window; None until two samples a second apart exist."""
        if len(self._samples) < 2 or self._samples[-1][0] - self._samples[0][0] < 1.0:
            return None
        return self._rate(self.steady_s)


@dataclass(frozen=True, slots=True)
class Progress:
    calls_done: int
    calls_left: float
    scenes_done: int
    scenes_total: int

    @property
    def calls_planned(self) -> int:
        return round(self.calls_done + self.calls_left)

    @property
    def fraction(self) -> float:
        planned = self.calls_done + self.calls_left
        return 1.0 if planned <= 0 else self.calls_done / planned


def scene_pace(state: BatchState) -> float:
    """Calls one scene takes: observed once a few scenes have ended, else planned."""
    if state.scenes_seen >= PACE_AFTER_SCENES:
        return state.scene_calls_seen / state.scenes_seen
    return state.planned_scene_calls


def progress(state: BatchState) -> Progress:
    per_scene = scene_pace(state)
    left = 0.0
    scenes_done = scenes_total = 0
    for row in state.rows.values():
        scenes_total += row.num_scenes
        if row.state in ENDED:
            scenes_done += row.num_scenes if row.state == "completed" else row.scene
            continue
        scenes_done += row.scene
        if state.draining:
            if row.state in ACTIVE:  # it stops when its current scene ends
                left += max(0.0, per_scene - row.scene_calls)
            continue
        left += max(0.0, (row.num_scenes - row.scene) * per_scene - row.scene_calls)
    return Progress(state.calls, left, scenes_done, scenes_total)


def scene_progress(state: BatchState) -> tuple[int, int]:
    """(scenes done, scenes in the batch)."""
    p = progress(state)
    return p.scenes_done, p.scenes_total


def eta(state: BatchState, calls_per_s: float | None, prog: Progress | None = None) -> float | None:
    """Seconds left: calls still owed over the steady call rate. 0 once every simulation has
    ended (or a drain has nothing left in progress); None while the rate is unknown."""
    prog = progress(state) if prog is None else prog
    if (state.total and state.done >= state.total) or prog.calls_left <= 0:
        return 0.0
    if state.finished_at is not None or not calls_per_s or calls_per_s <= 0:
        return None
    return prog.calls_left / calls_per_s
