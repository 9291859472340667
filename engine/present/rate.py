"""Calls per second and the ETA of a batch, computed one way for every display."""

from __future__ import annotations

from collections import deque

from engine.batch.state import BatchState

ENDED = ("completed", "failed", "cancelled")


class CallRate:
    """Calls per second over a sliding window of samples (taken on a display's timer)."""

    def __init__(self, window_s: float = 5.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float, calls: int) -> float:
        self._samples.append((now, calls))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window_s:
            self._samples.popleft()
        t0, c0 = self._samples[0]
        return (calls - c0) / (now - t0) if now > t0 else 0.0


def scene_progress(state: BatchState) -> tuple[int, int]:
    """(scenes done, scenes in the batch): an ended simulation counts all its scenes. Scenes,
    not simulations, so the ETA moves before the first simulation ends."""
    total = done = 0
    for row in state.rows.values():
        total += row.num_scenes
        done += row.num_scenes if row.state in ENDED else row.scene
    return done, total


def eta(state: BatchState, now: float) -> float | None:
    """Seconds left at the pace so far: 0 once every simulation has ended, None before a
    scene has finished (or once the batch has stopped short)."""
    if state.total and state.done >= state.total:
        return 0.0
    if state.finished_at is not None:
        return None
    done, total = scene_progress(state)
    if not done:
        return None
    return (now - state.started_at) * (total - done) / done
