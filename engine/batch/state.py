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
    EmbeddingsFallback,
    EndpointStatus,
    EventBase,
    Narration,
    RetryWarning,
    SceneEnded,
    SceneStarted,
    SimStateChanged,
    SimulationCompleted,
    SimulationFailed,
    SimulationStarted,
    StateInferred,
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
    failed_call: str = ""  # the call purpose whose failure ended the simulation
    scene_calls: int = 0  # calls since the last completed scene (for the ETA)
    # The relationship's state variables after the latest scene (value per variable), the
    # scene they describe, and the outcome once the simulation completed.
    rel_state: dict[str, str] = field(default_factory=dict)
    rel_state_scene: int | None = None
    outcome: str | None = None
    version: int = 0

    def new_attempt(self, attempt: int) -> None:
        """A rerun starts from nothing: the old attempt's scores and state are not its."""
        self.attempt = attempt
        self.trajectory = {}
        self.scene = 0
        self.current_scene = None
        self.turning_point = ""
        self.scene_calls = 0
        self.rel_state = {}
        self.rel_state_scene = None
        self.outcome = None
        self.failed_call = ""
        self.reason = None
        self.started_at = self.ended_at = None

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
    limit_reason: str | None = None


@dataclass(slots=True)
class BatchState:
    rows: dict[str, SimRow] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    retries: int = 0
    fallbacks: int = 0
    repairs: int = 0  # replies accepted after a benign repair (engine.llm.parsing)
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0  # of prompt_tokens, from the server's prefix cache
    completion_tokens: int = 0
    cost_usd: float = 0.0  # only with a price table (RELSIM_PRICES)
    # Set when embeddings fell back to the hashing embedder: said once, in the header.
    embeddings_note: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    recent_retries: deque[RetryWarning] = field(
        default_factory=lambda: deque(maxlen=RECENT_RETRIES)
    )
    recent_dialogue: deque[DialogueLine] = field(
        default_factory=lambda: deque(maxlen=RECENT_DIALOGUE)
    )
    endpoints: dict[str, EndpointRow] = field(default_factory=dict)
    # Progress: calls a scene is planned to take (from the spec), and the calls and scenes
    # seen so far (the observed pace replaces the plan once scenes end).
    planned_scene_calls: float = 0.0
    scene_calls_seen: int = 0
    scenes_seen: int = 0
    draining: bool = False  # no new simulation starts; running ones stop after their scene
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
            ep.limit_reason = event.limit_reason
            self.version += 1
            return
        if isinstance(event, EmbeddingsFallback):
            self.embeddings_note = event.note
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
            self.cached_prompt_tokens += event.cached_prompt_tokens
            self.completion_tokens += event.completion_tokens
            self.cost_usd += event.cost_usd
            row.scene_calls += 1
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
            if not event.fallback:
                row.failed_call = event.purpose
        elif isinstance(event, SceneEnded):
            # A scene is done when it ended (state inferred, reflections written), as resume
            # counts it: one interrupted after its scores is played again.
            row.scene = event.scene_index + 1
            self.scenes_seen += 1
            self.scene_calls_seen += row.scene_calls
            row.scene_calls = 0
        elif isinstance(event, StateInferred):
            row.rel_state = {k: str(v.get("value", "?")) for k, v in event.state.items()}
            row.rel_state_scene = event.scene_index
        elif isinstance(event, SimulationCompleted):
            row.outcome = event.outcome
        elif isinstance(event, SceneStarted):
            row.current_scene = event.scene_index
            row.turning_point = event.turning_point.title
        elif isinstance(event, CommitmentScored):
            c = event.commitment
            scores = row.trajectory.setdefault(c.agent, [])
            # A rerun starts the trajectory again from its first scene.
            del scores[event.scene_index :]
            scores.append(c.score)
        elif isinstance(event, SimulationStarted):
            row.num_scenes = event.num_scenes
            row.scene = event.start_scene
            row.scene_calls = 0
        elif isinstance(event, SimStateChanged):
            if event.attempt > row.attempt:
                row.new_attempt(event.attempt)
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
