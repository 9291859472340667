"""Plain, coalesced state of a batch, folded from events.

This is what displays read (the dashboard on its own timer, the CLI progress line): the engine
updates it per event at a few microseconds of cost, and a reader polls it at whatever rate it
likes. Each row carries a ``version`` that grows on every change, so a display can repaint only
the rows that changed since it last looked.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field

from engine.events import (
    ActionTaken,
    CallCompleted,
    CallFailed,
    CommitmentScored,
    EndpointStatus,
    EventBase,
    Narration,
    RetryWarning,
    SceneStarted,
    SimStateChanged,
    SimulationFailed,
    SimulationStarted,
)

STATES = ("pending", "running", "waiting", "completed", "failed", "cancelled")
RECENT_RETRIES = 500
RECENT_DIALOGUE = 1000


@dataclass(slots=True)
class SimRow:
    sim_id: str
    agents: tuple[str, str]
    num_scenes: int
    replicate: int = 0
    seed: int = 0
    state: str = "pending"
    attempt: int = 1
    activity: str = ""  # "generating", "retrying action 2/3", "waiting on endpoint"
    scene: int = 0  # scenes completed
    current_scene: int | None = None
    turning_point: str = ""
    trajectory: dict[str, list[int]] = field(default_factory=dict)
    retries: int = 0
    calls: int = 0
    tokens: int = 0
    started_at: float | None = None
    ended_at: float | None = None
    reason: str | None = None
    version: int = 0

    @property
    def pair(self) -> str:
        return f"{self.agents[0]} × {self.agents[1]}"

    def latest(self, agent: str) -> int | None:
        scores = self.trajectory.get(agent)
        return scores[-1] if scores else None

    @property
    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.time()) - self.started_at


@dataclass(slots=True)
class DialogueLine:
    sim_id: str
    scene_index: int
    speaker: str  # an agent name, or "" for narration
    text: str


@dataclass(slots=True)
class EndpointRow:
    endpoint: str
    limit: int = 0
    in_flight: int = 0
    breaker: str = "closed"
    reason: str | None = None


@dataclass(slots=True)
class BatchState:
    rows: dict[str, SimRow] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    retries: int = 0
    fallbacks: int = 0
    repairs: int = 0  # replies accepted after a benign repair (engine.llm.parsing)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0  # only with a price table (RELSIM_PRICES)
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    recent_retries: deque[RetryWarning] = field(
        default_factory=lambda: deque(maxlen=RECENT_RETRIES)
    )
    recent_dialogue: deque[DialogueLine] = field(
        default_factory=lambda: deque(maxlen=RECENT_DIALOGUE)
    )
    endpoints: dict[str, EndpointRow] = field(default_factory=dict)
    version: int = 0

    def add_row(self, row: SimRow) -> None:
        self.rows[row.sim_id] = row
        self.counts[row.state] += 1
        self.version += 1

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def done(self) -> int:
        return self.counts["completed"] + self.counts["failed"] + self.counts["cancelled"]

    def _set_state(self, row: SimRow, state: str) -> None:
        if row.state != state:
            self.counts[row.state] -= 1
            self.counts[state] += 1
            row.state = state

    def apply(self, event: EventBase) -> None:
        """Fold one event in. Cheap: called for every event the engine emits."""
        if isinstance(event, EndpointStatus):
            ep = self.endpoints.setdefault(event.endpoint, EndpointRow(event.endpoint))
            ep.limit, ep.in_flight, ep.breaker, ep.reason = (
                event.limit, event.in_flight, event.breaker, event.reason,
            )
            self.version += 1
            return
        row = self.rows.get(event.sim_id)
        if row is None:
            return
        self.version += 1
        row.version += 1
        if isinstance(event, CallCompleted):
            self.calls += 1
            row.calls += 1
            tokens = event.prompt_tokens + event.completion_tokens
            row.tokens += tokens
            self.prompt_tokens += event.prompt_tokens
            self.completion_tokens += event.completion_tokens
            self.cost_usd += event.cost_usd
            self.repairs += event.repairs
            if row.state == "running":
                row.activity = "generating"
        elif isinstance(event, Narration):
            self.recent_dialogue.append(DialogueLine(row.sim_id, event.scene_index, "", event.text))
        elif isinstance(event, ActionTaken):
            self.recent_dialogue.append(
                DialogueLine(row.sim_id, event.scene_index, event.agent, event.line)
            )
        elif isinstance(event, RetryWarning):
            self.retries += 1
            row.retries += 1
            self.recent_retries.append(event)
            if event.will_retry:
                wait = f" in {event.wait_s:.0f} s" if event.wait_s else ""
                row.activity = (
                    f"retrying {event.purpose} {event.attempt + 1}/{event.max_attempts}{wait}"
                )
        elif isinstance(event, CallFailed):
            self.fallbacks += event.fallback
        elif isinstance(event, SceneStarted):
            row.current_scene = event.scene_index
            row.turning_point = event.turning_point.title
        elif isinstance(event, CommitmentScored):
            c = event.commitment
            scores = row.trajectory.setdefault(c.agent, [])
            # A rerun starts the trajectory again from its first scene.
            del scores[event.scene_index :]
            scores.append(c.score)
            row.scene = event.scene_index + 1
        elif isinstance(event, SimulationStarted):
            row.num_scenes = event.num_scenes
            row.scene = event.start_scene
        elif isinstance(event, SimStateChanged):
            self._set_state(row, event.state)
            row.attempt = event.attempt
            row.reason = event.reason
            if event.state == "running":
                resumed = row.activity == "waiting on endpoint"
                row.started_at = row.started_at if resumed else event.t
                row.ended_at = None
                row.activity = "generating"
            elif event.state == "waiting":
                row.activity = "waiting on endpoint"
            else:
                row.activity = ""
                if event.state != "pending":
                    row.ended_at = event.t
        elif isinstance(event, SimulationFailed):
            row.reason = event.reason
