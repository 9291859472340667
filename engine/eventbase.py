"""The root of every event: each layer defines the events it emits on top of this.

Model-call events live in ``engine.llm.events``, simulation events in ``engine.sim.events``,
batch states in ``engine.batch.events``; ``engine.events`` is their union (for readers of a run
log, which meet all of them). This module imports nothing from the engine, so every layer can
build on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import ConfigDict, Field

from engine.compact import CompactModel


class EventBase(CompactModel):
    model_config = ConfigDict(frozen=True)

    sim_id: str = ""
    t: float = Field(default_factory=time.time)


EventSink = Callable[[EventBase], None]
