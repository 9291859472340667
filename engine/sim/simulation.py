"""Simulation: plays a couple through a plan of turning-point scenes and returns the
commitment log. Reports everything it does as events to an optional sink."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from typing import Any

from engine._sync import run_sync
from engine.errors import ConfigError
from engine.eventbase import EventBase, EventSink
from engine.llm.scope import CallScope, call_scope, current_scope
from engine.sim.agent import RelationshipAgent
from engine.sim.events import (
    ActionTaken,
    AfterActionReported,
    AppraisalMade,
    CommitmentScored,
    KeySceneRecord,
    MemoriesAppraised,
    Narration,
    OptionsFramed,
    PerspectiveFormed,
    ReflectionMade,
    SceneEnded,
    SceneSelected,
    SceneStarted,
    SceneSummarized,
    SceneTransition,
    SimulationCompleted,
    SimulationFailed,
    SimulationStarted,
    StateInferred,
)
from engine.sim.memory import pack_emotions
from engine.sim.records import AgentInfo, CommitmentEntry, PartnerCommitment
from engine.sim.scene_master import SceneMaster
from engine.sim.schemas import Appraisal, Emotions, RelationshipState, SceneSetup, SceneSummary
from engine.sim.selection import ending
from engine.sim.turning_points import DEFAULT_SCENES

MAX_SCENES = 50
MAX_BEATS = 20


def calls_on_critical_path(
    num_scenes: int, beats: int, identity_memories: bool = True, policy: str = "state"
) -> int:
    """Dependent model calls in the longest chain of one simulation (for latency benchmarks):
    identity memories (both partners' appraisals and embeddings at once), then per scene
    [selection, a model call only for policy "scene_master"] → setup → perspectives →
    beats × (beat∥recalls∥partner's appraisal of the last line → appraise∥options → act) →
    summary∥state∥last partner appraisal → reflections → commitments → transition (none after
    the last scene); then the after-action report (which replaces the last transition)."""
    selection = num_scenes if policy == "scene_master" else 0
    return int(identity_memories) + num_scenes * (6 + 3 * beats) - 1 + 1 + selection


def check_range(name: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


class Simulation:
    def __init__(
        self,
        scene_master: SceneMaster,
        agent1: RelationshipAgent,
        agent2: RelationshipAgent,
        *,
        seed: int = 0,
        num_scenes: int | None = None,
        sim_id: str | None = None,
        sink: EventSink | None = None,
    ) -> None:
        if scene_master.agents != (agent1, agent2):
            raise ConfigError("the Scene Master must be built with the same two agents, in order")
        self.scene_master = scene_master
        self.agents = (agent1, agent2)
        self.seed = seed
        plan_len = len(scene_master.plan) if scene_master.plan is not None else None
        self.num_scenes = check_range(
            "num_scenes", num_scenes or plan_len or DEFAULT_SCENES, 1, MAX_SCENES
        )
        self.sim_id = sim_id or uuid.uuid4().hex[:8]
        self.sink = sink
        self.commitment_log: list[CommitmentEntry] = []
        self._identity_appraised = False
        self._transition_pending = False
        self._announced: set[int] = set()  # scene indices whose scene_selected was emitted

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _scoped(self) -> Any:
        outer = current_scope()
        if outer.sim_id == self.sim_id and outer.sink is self.sink:
            yield outer
            return
        with call_scope(CallScope(self.sink, self.sim_id, self.seed)) as scope:
            yield scope

    def _emit(self, event: EventBase) -> None:
        if self.sink is not None:
            self.sink(event)

    def agent_info(self) -> list[AgentInfo]:
        return [
            AgentInfo(
                name=a.name, role=a.role or "A", persona_id=a.persona.id, summary=a.persona.summary
            )
            for a in self.agents
        ]

    # -- run -----------------------------------------------------------------------------------

    async def run_auto_async(self, num_interactions_per_scene: int = 3) -> list[CommitmentEntry]:
        """Run every remaining scene of the plan; returns the commitment log (one entry per
        scene, both partners scored)."""
        beats = check_range("num_interactions_per_scene", num_interactions_per_scene, 1, MAX_BEATS)
        sm = self.scene_master
        sm.beats = beats
        plan = sm.ensure_plan(self.num_scenes, self.seed)
        with self._scoped():
            self._emit(
                SimulationStarted(
                    sim_id=self.sim_id,
                    agents=self.agent_info(),
                    model=sm.provider.model,
                    model_label=sm.provider.label,
                    seed=self.seed,
                    # The maximum when scenes are chosen as the story goes (no plan up front).
                    num_scenes=sm.max_scenes if sm.dynamic else len(plan),
                    beats_per_scene=beats,
                    plan=[] if sm.dynamic else [tp.ref() for tp in plan],
                    start_scene=sm.scene_index,
                )
            )
            try:
                await self._appraise_identity()
                if self._transition_pending:
                    await self._transition()
                while not sm.finished:
                    await self.run_scene_async(beats)
                    await self._transition()
                report = await sm.after_action_report_result(self.commitment_log)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._emit(
                    SimulationFailed(
                        sim_id=self.sim_id,
                        reason=str(exc) or type(exc).__name__,
                        error_type=type(exc).__name__,
                        scene_index=sm.scene_index,
                    )
                )
                raise
            value = report.value
            self._emit(
                AfterActionReported(
                    sim_id=self.sim_id,
                    trajectory=value.trajectory,
                    key_scenes=[KeySceneRecord(**k.model_dump()) for k in value.key_scenes],
                    risk_markers=list(value.risk_markers),
                    strength_markers=list(value.strength_markers),
                    predicted_outcome=value.predicted_outcome,
                    probability=value.probability,
                    fallback=report.fallback,
                )
            )
            self._emit(
                SimulationCompleted(
                    sim_id=self.sim_id,
                    commitment_log=self.commitment_log,
                    outcome=sm.final_outcome(),
                    ended_early=sm.ended_early,
                )
            )
        return self.commitment_log

    @property
    def outcome(self) -> str | None:
        """``together`` or ``separated`` once the simulation has ended, else None."""
        sm = self.scene_master
        return sm.final_outcome() if sm.finished else None

    def run_auto(self, num_interactions_per_scene: int = 3) -> list[CommitmentEntry]:
        return run_sync(
            self.run_auto_async(num_interactions_per_scene), "Simulation.run_auto_async"
        )

    async def _appraise_identity(self) -> None:
        if self._identity_appraised:
            return
        self._identity_appraised = True
        appraised = await asyncio.gather(*(agent.appraise_memories() for agent in self.agents))
        for agent, (items, fallbacks) in zip(self.agents, appraised, strict=True):
            if items:
                self._emit(
                    MemoriesAppraised(
                        sim_id=self.sim_id,
                        agent=agent.name,
                        count=len(items),
                        fallback_count=fallbacks,
                        emotions=[list(i.emotions or ()) for i in items],
                    )
                )

    async def _announce(self, index: int) -> None:
        """Choose the scene at ``index`` (if not yet chosen) and log the choice and its reason."""
        if index in self._announced:
            return
        self._announced.add(index)
        selection = await self.scene_master.select_next_scene_async(index)
        self._emit(
            SceneSelected(
                sim_id=self.sim_id,
                scene_index=index,
                turning_point=selection.turning_point.ref(),
                policy=selection.policy,
                reason=selection.reason,
                candidates=selection.candidates,
            )
        )

    async def _transition(self) -> None:
        self._transition_pending = False
        sm = self.scene_master
        index = sm.scene_index
        limit = sm.max_scenes if sm.dynamic else len(sm.ensure_plan())
        if index + 1 < limit and not sm.ended_early:
            await self._announce(index + 1)
        transition = await self.scene_master.next_scene_async()
        if transition is not None:
            self._emit(
                SceneTransition(
                    sim_id=self.sim_id,
                    scene_index=index + 1,
                    bridge=transition.bridge,
                    time_passed=transition.time_passed,
                )
            )

    async def run_scene_async(self, num_interactions: int = 3) -> CommitmentEntry:
        """Play the current scene: set-up, ``num_interactions`` beats, summary, both partners'
        commitment. Does not advance to the next scene (``run_auto_async`` does)."""
        check_range("num_interactions", num_interactions, 1, MAX_BEATS)
        sm = self.scene_master
        sm.beats = sm.beats or num_interactions
        sm.ensure_plan(self.num_scenes, self.seed)
        a, b = self.agents
        with self._scoped():
            await self._announce(sm.scene_index)
            setup = await sm.initialize_async()
            scene = sm.scene
            assert scene is not None
            index = scene.index
            self._emit(
                SceneStarted(
                    sim_id=self.sim_id,
                    scene_index=index,
                    turning_point=scene.turning_point.ref(),
                    scenario=scene.scenario,
                    setting=setup.setting,
                    conflict=setup.conflict,
                    goals={a.name: setup.goal_a, b.name: setup.goal_b},
                    opening=setup.opening,
                )
            )
            views = await asyncio.gather(sm.generate_context_async(a), sm.generate_context_async(b))
            for agent, text in zip(self.agents, views, strict=True):
                self._emit(
                    PerspectiveFormed(
                        sim_id=self.sim_id, scene_index=index, agent=agent.name, text=text
                    )
                )
            heard: Any = None  # the partner's appraisal of the last line, still running
            try:
                for beat in range(1, num_interactions + 1):
                    heard = await self._beat(index, beat, heard)
                summary, state, _ = await asyncio.gather(
                    sm.summarize_async(), sm.infer_state_result(), self._heard(index, heard)
                )
            finally:
                close_unstarted(heard)
            self._emit(
                SceneSummarized(
                    sim_id=self.sim_id,
                    scene_index=index,
                    summary=summary.summary,
                    key_moments=list(summary.key_moments),
                )
            )
            self._emit(
                StateInferred(
                    sim_id=self.sim_id,
                    scene_index=index,
                    state=state.value.as_event(),
                    fallback=state.fallback,
                )
            )
            reflect_a, reflect_b = await asyncio.gather(
                a.reflect_async(summary.summary), b.reflect_async(summary.summary)
            )
            for agent, reflection in ((a, reflect_a), (b, reflect_b)):
                self._emit(
                    ReflectionMade(
                        sim_id=self.sim_id,
                        scene_index=index,
                        agent=agent.name,
                        text=reflection.reflection,
                        feeling=reflection.feeling_towards_partner,
                    )
                )
            reflections = {a.name: reflect_a.reflection, b.name: reflect_b.reflection}
            (score_a, samples_a, spread_a), (score_b, samples_b, spread_b) = await asyncio.gather(
                sm.commitment_samples_async(a, reflections),
                sm.commitment_samples_async(b, reflections),
            )
            commitments: dict[str, PartnerCommitment] = {}
            for agent, score, samples, spread in (
                (a, score_a, samples_a, spread_a),
                (b, score_b, samples_b, spread_b),
            ):
                commitments[agent.name] = PartnerCommitment(
                    agent=agent.name,
                    role=agent.role or "A",
                    score=score.commitment,
                    reasoning=score.reasoning,
                    satisfaction=score.satisfaction,
                    alternatives=score.quality_of_alternatives,
                    investment=score.investment,
                    samples=samples if len(samples) > 1 else [],
                    spread=spread,
                )
                self._emit(
                    CommitmentScored(
                        sim_id=self.sim_id, scene_index=index, commitment=commitments[agent.name]
                    )
                )
            entry = CommitmentEntry(
                scene_index=index,
                turning_point=scene.turning_point.ref(),
                summary=summary.summary,
                commitments=commitments,
            )
            self._apply_scene_end(entry, reflections=reflections)
            self._emit(SceneEnded(sim_id=self.sim_id, scene_index=index, entry=entry))
            return entry

    def run_scene(self, num_interactions: int = 3) -> CommitmentEntry:
        return run_sync(self.run_scene_async(num_interactions), "Simulation.run_scene_async")

    async def _beat(self, index: int, beat: int, heard: Any) -> Any:
        """One beat: narration → the actor appraises while the Scene Master frames options →
        the actor acts. Returns the spoken-to partner's appraisal of the line (a coroutine the
        next beat, or the scene's end, runs alongside its own first calls)."""
        sm = self.scene_master
        a, b = self.agents
        scene = sm.scene
        assert scene is not None and scene.setup is not None
        last = scene.transcript[-1] if scene.transcript else None
        # Recall by what was last said (or the opening), for both partners: the actor is only
        # known once the beat is narrated, and the partner needs memories to appraise the reply.
        query = f"{last['actor']}: {last['line']}" if last else scene.setup.opening
        outcome, recalled_a, recalled_b, _ = await asyncio.gather(
            sm.progress_async(), a.recall_async(query), b.recall_async(query),
            self._heard(index, heard),
        )
        actor = outcome.actor
        partner = b if actor is a else a
        memories, partner_memories = (
            (recalled_a, recalled_b) if actor is a else (recalled_b, recalled_a)
        )
        self._emit(
            Narration(
                sim_id=self.sim_id,
                scene_index=index,
                beat=beat,
                text=outcome.narration,
                next_actor=actor.name,
            )
        )
        appraisal, options = await asyncio.gather(
            actor.appraise_result(outcome.narration, memories),
            sm.frame_options_async(actor, outcome.narration, memories),
        )
        self._emit(
            OptionsFramed(
                sim_id=self.sim_id,
                scene_index=index,
                beat=beat,
                agent=actor.name,
                options=[{"text": o.label, "approach": o.approach or ""} for o in options],
            )
        )
        self._emit(
            AppraisalMade(
                sim_id=self.sim_id,
                scene_index=index,
                beat=beat,
                agent=actor.name,
                emotions=appraisal.value.emotions.model_dump(),
                inner_thoughts=appraisal.value.inner_thoughts,
                fallback=appraisal.fallback,
            )
        )
        sm.record_emotions(actor, appraisal.value.emotions)
        action = await actor.act_async(outcome.narration, options, memories)
        chosen = options[action.choice - 1]
        self._emit(
            ActionTaken(
                sim_id=self.sim_id,
                scene_index=index,
                beat=beat,
                agent=actor.name,
                options=[o.label for o in options],
                chosen=action.choice,
                inner_thoughts=action.inner_thoughts,
                line=action.line,
                behaviour=action.behaviour,
                approach=chosen.approach,
            )
        )
        self._apply_action(
            index,
            actor,
            chosen.label,
            action.line,
            action.behaviour,
            appraisal.value.emotions,
            chosen.approach,
        )
        # What the partner saw and heard, never the actor's inner thoughts.
        said = f"{actor.name} says to you: \u201c{action.line}\u201d ({action.behaviour})"
        return (beat, actor.name, partner, partner.appraise_result(said, partner_memories))

    async def _heard(self, index: int, heard: Any) -> None:
        """Finish the spoken-to partner's appraisal and log it."""
        if heard is None:
            return
        beat, actor_name, partner, pending = heard
        result: Any = await pending
        value: Appraisal = result.value
        self._emit(
            AppraisalMade(
                sim_id=self.sim_id,
                scene_index=index,
                beat=beat,
                agent=partner.name,
                emotions=value.emotions.model_dump(),
                inner_thoughts=value.inner_thoughts,
                fallback=result.fallback,
                responding_to=actor_name,
            )
        )
        self.scene_master.record_emotions(partner, value.emotions)

    # -- state changes shared by live runs and restores ----------------------------------------

    def _apply_action(
        self,
        index: int,
        actor: RelationshipAgent,
        option: str,
        line: str,
        behaviour: str,
        emotions: Emotions,
        approach: str | None = None,
    ) -> None:
        self.scene_master.record_action(actor, option, line, behaviour, approach)
        partner = actor.partner
        assert partner is not None
        actor.remember(f"I said to {partner.name}: {line}", "action", index, emotions)
        partner.remember(f"{actor.name} said to me: {line}", "action", index)

    def _apply_scene_end(self, entry: CommitmentEntry, reflections: dict[str, str]) -> None:
        sm = self.scene_master
        scores = {name: c.score for name, c in entry.commitments.items()}
        components = {
            name: {"satisfaction": c.satisfaction, "quality_of_alternatives": c.alternatives,
                   "investment": c.investment}
            for name, c in entry.commitments.items()
        }
        sm.close_scene(scores, components)
        if sm.dynamic and sm.outcome is None:
            # A scene can end the relationship (the rule is in engine.sim.selection).
            ended = ending(sm.state, scores, entry.turning_point.category)
            if ended is not None:
                # Ending in the last scene is the outcome, not an early end.
                sm.end(ended, early=entry.scene_index + 1 < sm.max_scenes)
        for agent in self.agents:
            agent.remember(entry.summary, "summary", entry.scene_index)
            agent.remember(reflections[agent.name], "reflection", entry.scene_index)
        self.commitment_log.append(entry)
        self._transition_pending = True

    # -- resume --------------------------------------------------------------------------------

    def restore(self, events: Iterable[EventBase]) -> int:
        """Rebuild state from a previous run's events so ``run_auto_async`` continues after the
        last completed scene. Events of an unfinished scene are ignored (it is replayed).
        Returns the number of completed scenes restored."""
        events = list(events)
        completed = {e.scene_index for e in events if isinstance(e, SceneEnded)}
        sm = self.scene_master
        sm.ensure_plan(self.num_scenes, self.seed)
        by_name = {a.name: a for a in self.agents}
        pending_emotions: dict[tuple[int, int], Emotions] = {}
        last_transition = -1
        for event in events:
            if isinstance(event, MemoriesAppraised):
                items = [m for m in by_name[event.agent].memory.items if m.kind == "identity"]
                for item, emotions in zip(items, event.emotions, strict=False):
                    item.emotions = pack_emotions(emotions)
                self._identity_appraised = True
            scene_index = getattr(event, "scene_index", None)
            if scene_index not in completed:
                continue
            if isinstance(event, SceneStarted):
                a, b = self.agents
                setup = SceneSetup(
                    setting=event.setting,
                    conflict=event.conflict,
                    goal_a=event.goals[a.name],
                    goal_b=event.goals[b.name],
                    opening=event.opening,
                )
                if sm.dynamic and sm.plan is not None:
                    # The scene actually played (the last attempt's choice) fills its slot.
                    tp = sm.turning_point(event.turning_point.id)
                    if len(sm.plan) == event.scene_index:
                        sm.plan.append(tp)
                    elif len(sm.plan) > event.scene_index:
                        sm.plan[event.scene_index] = tp
                self._announced.add(event.scene_index)
                sm.restore_scene(event.scene_index, event.turning_point.id, event.scenario, setup)
            elif isinstance(event, AppraisalMade):
                emotions = Emotions(**event.emotions)
                by_name[event.agent].emotions = emotions
                sm.record_emotions(by_name[event.agent], emotions)
                if event.responding_to is None:
                    pending_emotions[(event.scene_index, event.beat)] = emotions
            elif isinstance(event, StateInferred):
                sm.record_state(RelationshipState.model_validate(event.state))
            elif isinstance(event, ActionTaken):
                actor = by_name[event.agent]
                emotions = pending_emotions.get((event.scene_index, event.beat), Emotions.neutral())
                self._apply_action(
                    event.scene_index,
                    actor,
                    event.options[event.chosen - 1],
                    event.line,
                    event.behaviour,
                    emotions,
                    event.approach,
                )
            elif isinstance(event, SceneSummarized):
                sm.restore_summary(
                    SceneSummary(summary=event.summary, key_moments=event.key_moments)
                )
            elif isinstance(event, SceneEnded):
                reflections = {
                    e.agent: e.text
                    for e in events
                    if isinstance(e, ReflectionMade) and e.scene_index == event.scene_index
                }
                self._apply_scene_end(event.entry, reflections)
                sm.scene_index = event.scene_index
            elif isinstance(event, SceneTransition):
                sm.scene_index = event.scene_index
                sm.bridge = event.bridge
                last_transition = event.scene_index
                self._transition_pending = False
        if completed and last_transition != max(completed) + 1:
            sm.scene_index = max(completed)
            self._transition_pending = True
        return len(completed)


def close_unstarted(heard: Any) -> None:
    """Close a partner's appraisal that a cancelled beat never started (a gather cancelled
    before its tasks ran): otherwise it is collected unawaited, and Python warns about it on
    the user's terminal."""
    pending = heard[3] if heard is not None else None
    if inspect.iscoroutine(pending) and inspect.getcoroutinestate(pending) == inspect.CORO_CREATED:
        pending.close()
