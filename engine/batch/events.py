"""Events the batch layer emits: a simulation's state, which only the batch runner decides."""

from __future__ import annotations

from typing import Literal

from engine.eventbase import EventBase

SimState = Literal["pending", "running", "waiting", "completed", "failed", "cancelled"]


class SimStateChanged(EventBase):
    """The batch runner moved a simulation to a new state (``attempt`` counts reruns)."""

    type: Literal["sim_state"] = "sim_state"
    state: SimState
    attempt: int = 1
    reason: str | None = None
