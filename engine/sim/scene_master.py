"""SceneMaster: stages each turning point, advances it beat by beat, summarises and scores it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean, pstdev
from typing import Any

from engine._sync import run_sync
from engine.errors import ConfigError
from engine.llm.caller import StructuredResult, call_structured
from engine.llm.registry import resolve_model
from engine.llm.types import Provider
from engine.sim import prompts
from engine.sim.agent import RelationshipAgent, SceneFrame
from engine.sim.memory import MemoryItem
from engine.sim.schemas import (
    EMOTIONS,
    AfterActionReport,
    Beat,
    CommitmentScore,
    Emotions,
    FramedOptions,
    Option,
    Perspective,
    RelationshipState,
    SceneChoice,
    SceneSetup,
    SceneSummary,
    Transition,
    validation_context_for,
)
from engine.sim.selection import (
    POLICIES,
    SCENE_MASTER_CANDIDATES,
    Outcome,
    Policy,
    Selection,
    candidates_for,
    final_outcome,
    mean_commitment,
    select_by_state,
)
from engine.sim.turning_points import DEFAULT_SCENES, TurningPoint, build_plan, get_turning_point

TRANSCRIPT_WINDOW = 6  # default for context_turns: the last N turns of a scene a prompt sees
MAX_COMMITMENT_SAMPLES = 10


@dataclass(slots=True)
class SceneState:
    index: int
    turning_point: TurningPoint
    scenario: str
    setup: SceneSetup | None = None
    beat: int = 0
    transcript: list[dict[str, str]] = field(default_factory=list)
    emotions: dict[str, list[tuple[float, ...]]] = field(default_factory=dict)
    summary: SceneSummary | None = None


@dataclass(slots=True)
class BeatOutcome:
    narration: str
    actor: RelationshipAgent


class SceneMaster:
    """Narrator and judge. ``plan`` is a list of turning points (or their ids); without one, a
    plan of ``num_scenes`` is drawn from the library with the simulation's seed (policy
    "fixed"). Without a plan the next scene is chosen after each scene: by the relationship's
    state (policy "state", the default) or by the Scene Master among eligible candidates
    ("scene_master"); see ``engine.sim.selection``."""

    def __init__(
        self,
        agent1: RelationshipAgent,
        agent2: RelationshipAgent,
        *,
        model: str | Provider | None = None,
        commitment_model: str | Provider | None = None,
        plan: Sequence[TurningPoint | str] | None = None,
        policy: Policy | None = None,
        commitment_samples: int = 1,
        context_turns: int = TRANSCRIPT_WINDOW,
        scenarios: str | Path | None = None,
    ) -> None:
        if agent1 is agent2 or agent1.name == agent2.name:
            raise ConfigError("the two partners need distinct names")
        self.agents = (agent1, agent2)
        agent1.role, agent2.role = "A", "B"
        agent1.partner, agent2.partner = agent2, agent1
        self.provider = resolve_model(model)
        # Commitment scoring may use a bigger model than narration.
        self.commitment_provider = (
            resolve_model(commitment_model) if commitment_model else self.provider
        )
        # A user scenario library (``relsim scenarios import``) on top of the shipped one.
        self.scenarios = scenarios
        self.plan: list[TurningPoint] | None = (
            [tp if isinstance(tp, TurningPoint) else self.turning_point(tp) for tp in plan]
            if plan is not None
            else None
        )
        if policy is not None and policy not in POLICIES:
            raise ConfigError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        if plan is not None and policy not in (None, "fixed"):
            raise ConfigError(f"a fixed plan needs policy 'fixed', not {policy!r}")
        self.policy: Policy = policy or ("fixed" if plan is not None else "state")
        if not 1 <= commitment_samples <= MAX_COMMITMENT_SAMPLES:
            raise ConfigError(f"commitment_samples must be 1 to {MAX_COMMITMENT_SAMPLES}")
        self.commitment_samples = commitment_samples
        if not 1 <= context_turns <= 100:
            raise ConfigError("context_turns must be 1 to 100")
        self.context_turns = context_turns
        self.max_scenes = len(self.plan) if self.plan is not None else DEFAULT_SCENES
        self.seed = 0
        self.beats: int | None = None  # beats per scene, when a Simulation says so
        self.state: RelationshipState | None = None  # after the last scene played
        # Each played scene's state values, for the after-action report. Values only: the whole
        # states, evidence included, are in the events, and a simulation need not carry them.
        self.state_values: list[dict[str, str]] = []
        self.outcome: Outcome | None = None
        self.ended_early = False
        self.scene_index = 0
        self.scene: SceneState | None = None
        self.history: list[str] = []
        self.scores: dict[str, list[int]] = {agent1.name: [], agent2.name: []}
        # Each partner's last satisfaction / alternatives / investment, so the next commitment
        # call can continue from them (Rusbult's components carry over between scenes).
        self.components: dict[str, dict[str, int]] = {}
        self.bridge: str | None = None

    # -- plan ----------------------------------------------------------------------------------

    def ensure_plan(self, num_scenes: int = DEFAULT_SCENES, seed: int = 0) -> list[TurningPoint]:
        """The scenes so far: the whole plan for policy "fixed", else the ones chosen so far
        (``num_scenes`` is then the maximum)."""
        if self.plan is None:
            self.seed = seed
            self.max_scenes = num_scenes
            self.plan = (
                build_plan(num_scenes, seed, scenarios=self.scenarios)
                if self.policy == "fixed"
                else []
            )
        return self.plan

    def turning_point(self, key: str) -> TurningPoint:
        """A turning point by id, from this Scene Master's library."""
        return get_turning_point(key, self.scenarios)

    @property
    def dynamic(self) -> bool:
        return self.policy != "fixed"

    @property
    def finished(self) -> bool:
        if self.plan is None:
            return False
        limit = self.max_scenes if self.dynamic else len(self.plan)
        return (self.outcome is not None and self.ended_early) or self.scene_index >= limit

    def end(self, outcome: Outcome, *, early: bool) -> None:
        self.outcome, self.ended_early = outcome, early

    def final_outcome(self) -> Outcome:
        """The documented rule (``selection.final_outcome``) on the last state and scores."""
        last = {name: s[-1] for name, s in self.scores.items() if s}
        return self.outcome or final_outcome(self.state, last)

    def _pair_context(self) -> dict[str, Any]:
        a, b = self.agents
        return {"a": a.profile(inner=False), "b": b.profile(inner=False)}

    def _names(self) -> dict[str, str]:
        return {"a": self.agents[0].name, "b": self.agents[1].name}

    def _tp_context(self) -> dict[str, Any]:
        scene = self._require_scene()
        tp = scene.turning_point
        return {"id": tp.id, "category": tp.category, "title": tp.title, "scenario": scene.scenario}

    def _require_scene(self) -> SceneState:
        if self.scene is None:
            raise RuntimeError("no scene is set: call initialize_async() first")
        return self.scene

    # -- initialize ----------------------------------------------------------------------------

    async def initialize_async(self, turning_point: TurningPoint | str | None = None) -> SceneSetup:
        """Stage the current turning point (or the one given) as a scene."""
        if turning_point is None:
            plan = self.ensure_plan()
            if self.dynamic and self.scene_index == len(plan) and not self.finished:
                await self.select_next_scene_async(self.scene_index)
            if self.scene_index >= len(plan):
                raise RuntimeError("the scene plan is finished")
            tp = plan[self.scene_index]
        else:
            tp = (
                turning_point
                if isinstance(turning_point, TurningPoint)
                else self.turning_point(turning_point)
            )
        a, b = self.agents
        scenario = tp.scenario_for(a.name, b.name)
        self.scene = SceneState(index=self.scene_index, turning_point=tp, scenario=scenario)
        context = {
            **self._pair_context(),
            "turning_point": self._tp_context(),
            "scene_index": self.scene_index,
            "story_so_far": self.history[-3:],
            "bridge": self.bridge,
        }
        result = await call_structured(
            self.provider,
            prompts.render("scene_setup", context, title=tp.title, **self._names()),
            SceneSetup,
            purpose="scene_setup",
            context=context,
        )
        setup = result.value
        self.scene.setup = setup
        self._frame_agents()
        return setup

    def _frame_agents(self) -> None:
        scene = self._require_scene()
        assert scene.setup is not None
        a, b = self.agents
        for agent, goal in ((a, scene.setup.goal_a), (b, scene.setup.goal_b)):
            agent.scene = SceneFrame(
                scene.turning_point, scene.scenario, scene.setup.setting, goal,
                opening=scene.setup.opening, index=scene.index, transcript=scene.transcript,
                context_turns=self.context_turns,
            )

    def restore_scene(
        self, index: int, turning_point_id: str, scenario: str, setup: SceneSetup
    ) -> None:
        """Re-enter a scene recorded in a run log, without calling the model."""
        tp = self.turning_point(turning_point_id)
        self.scene_index = index
        self.scene = SceneState(index=index, turning_point=tp, scenario=scenario, setup=setup)
        self._frame_agents()

    def initialize(self, turning_point: TurningPoint | str | None = None) -> SceneSetup:
        return run_sync(self.initialize_async(turning_point), "SceneMaster.initialize_async")

    # -- context -------------------------------------------------------------------------------

    async def generate_context_async(self, agent: RelationshipAgent) -> str:
        """The Scene Master's private framing of the scene for one partner, which that partner
        then carries into its appraisals, choices and actions. A structured call (one bounded
        field) rather than free text: a server decoding with the schema's grammar must end the
        briefing at its length bound, where free text from a small model can loop to the
        budget on every attempt."""
        scene = self._require_scene()
        assert scene.setup is not None
        frame = agent.scene
        context = {
            "self": agent.profile(),
            "partner": agent.partner.name if agent.partner else "",
            "turning_point": self._tp_context(),
            "setting": scene.setup.setting,
            "goal": frame.goal if frame else "",
        }
        names = {"self": agent.name, "partner": context["partner"], **self._names()}
        result = await call_structured(
            self.provider,
            prompts.render("perspective", context, **names),
            Perspective,
            purpose="perspective",
            agent=agent.name,
            context=context,
        )
        text = result.value.briefing
        if frame is not None:
            frame.perspective = text  # the partner carries the briefing into the scene
        return text

    def generate_context(self, agent: RelationshipAgent) -> str:
        return run_sync(self.generate_context_async(agent), "SceneMaster.generate_context_async")

    # -- progress ------------------------------------------------------------------------------

    async def progress_async(self) -> BeatOutcome:
        """Narrate the next beat and name who acts, validated to one of the two partners."""
        scene = self._require_scene()
        assert scene.setup is not None
        scene.beat += 1
        a, b = self.agents
        actors = {"a": "A", "b": "B", a.name.lower(): "A", b.name.lower(): "B"}
        # What stays the same through the scene first (prefix caching), what changes last.
        context = {
            **self._pair_context(),
            "turning_point": self._tp_context(),
            "setting": scene.setup.setting,
            "conflict": scene.setup.conflict,
            "opening": scene.setup.opening,
            "actors": actors,
            "transcript": scene.transcript[-self.context_turns :],
            "beat": scene.beat,
        }
        position = f"beat {scene.beat} of {self.beats}" if self.beats else f"beat {scene.beat}"
        result = await call_structured(
            self.provider,
            prompts.render("beat", context, position=position, **self._names()),
            Beat,
            purpose="beat",
            context=context,
            validation_context=validation_context_for("beat", context),
        )
        actor = a if result.value.next_actor == "A" else b
        return BeatOutcome(result.value.narration, actor)

    def progress(self) -> BeatOutcome:
        return run_sync(self.progress_async(), "SceneMaster.progress_async")

    def record_action(
        self,
        agent: RelationshipAgent,
        option: str,
        line: str,
        behaviour: str,
        approach: str | None = None,
    ) -> None:
        turn = {"actor": agent.name, "option": option, "line": line, "behaviour": behaviour}
        if approach is not None:
            turn["approach"] = approach
        self._require_scene().transcript.append(turn)

    # -- options -------------------------------------------------------------------------------

    async def frame_options_async(
        self,
        actor: RelationshipAgent,
        situation: str,
        memories: Sequence[MemoryItem] = (),
    ) -> list[Option]:
        """3–4 mutually exclusive, observable options for ``actor`` at this beat, each tagged
        with an approach (repair, assert, withdraw, escalate, deflect, affirm)."""
        scene = self._require_scene()
        assert scene.setup is not None
        frame = actor.scene
        context = {
            **self._pair_context(),
            "turning_point": self._tp_context(),
            "setting": scene.setup.setting,
            "conflict": scene.setup.conflict,
            "opening": scene.setup.opening,
            "actor": actor.name,
            "goal": frame.goal if frame else "",
            "memories": [m.text for m in memories],
            "transcript": _visible(scene.transcript[-self.context_turns :]),
            "situation": situation,
        }
        result = await call_structured(
            self.provider,
            prompts.render("options", context, actor=actor.name, **self._names()),
            FramedOptions,
            purpose="options",
            agent=actor.name,
            context=context,
            fallback=FramedOptions.generic(),
        )
        return result.value.as_options()

    def frame_options(
        self, actor: RelationshipAgent, situation: str, memories: Sequence[MemoryItem] = ()
    ) -> list[Option]:
        return run_sync(
            self.frame_options_async(actor, situation, memories), "SceneMaster.frame_options_async"
        )

    def record_emotions(self, agent: RelationshipAgent, emotions: Emotions) -> None:
        self._require_scene().emotions.setdefault(agent.name, []).append(emotions.vector())

    # -- summary and commitment ----------------------------------------------------------------

    async def summarize_async(self) -> SceneSummary:
        scene = self._require_scene()
        assert scene.setup is not None
        context = {
            **self._pair_context(),
            "turning_point": self._tp_context(),
            "setting": scene.setup.setting,
            "conflict": scene.setup.conflict,
            "transcript": scene.transcript,
        }
        result = await call_structured(
            self.provider,
            prompts.render("summary", context, **self._names()),
            SceneSummary,
            purpose="summary",
            context=context,
        )
        scene.summary = result.value
        return result.value

    # -- relationship state --------------------------------------------------------------------

    async def infer_state_result(self) -> StructuredResult[RelationshipState]:
        scene = self._require_scene()
        assert scene.setup is not None
        context = {
            **self._pair_context(),
            "turning_point": self._tp_context(),
            "scene_index": scene.index,
            "opening": scene.setup.opening,
            "previous_state": self.state.values() if self.state is not None else None,
            "commitment_so_far": mean_commitment(self.scores),
            "transcript": _visible(scene.transcript),
        }
        result = await call_structured(
            self.provider,
            prompts.render("state", context, **self._names()),
            RelationshipState,
            purpose="state",
            context=context,
            fallback=RelationshipState.unknown(),
        )
        self.record_state(result.value)
        return result

    async def infer_state_async(self) -> RelationshipState:
        """The eight state variables after the current scene, each a value with evidence from
        the transcript. Non-critical: all "unknown" (a declared fallback) after 3 failures."""
        return (await self.infer_state_result()).value

    def infer_state(self) -> RelationshipState:
        return run_sync(self.infer_state_async(), "SceneMaster.infer_state_async")

    def record_state(self, state: RelationshipState) -> None:
        self.state = state
        self.state_values.append(state.values())

    # -- scene selection -----------------------------------------------------------------------

    async def select_next_scene_async(self, scene_index: int | None = None) -> Selection:
        """Choose the turning point for ``scene_index`` (default: the next unchosen one) by the
        policy, and add it to the plan. Only policy "scene_master" calls the model."""
        plan = self.ensure_plan()
        index = len(plan) if scene_index is None else scene_index
        if index < len(plan):
            tp = plan[index]
            why = "fixed plan" if not self.dynamic else "chosen earlier"
            return Selection(tp, self.policy, f"{why}: scene {index + 1}", [tp.id])
        if index != len(plan):
            raise RuntimeError(f"scenes are chosen in order: the next is {len(plan)}")
        commitment = mean_commitment(self.scores)
        if self.policy == "state":
            selection = select_by_state(self.state, commitment, index, plan, self.seed,
                                        scenarios=self.scenarios)
        else:
            selection = await self._scene_master_choice(index, commitment)
        plan.append(selection.turning_point)
        return selection

    def select_next_scene(self, scene_index: int | None = None) -> Selection:
        return run_sync(
            self.select_next_scene_async(scene_index), "SceneMaster.select_next_scene_async"
        )

    async def _scene_master_choice(self, index: int, commitment: float | None) -> Selection:
        plan = self.ensure_plan()
        candidates, heuristic = candidates_for(
            self.state, commitment, index, plan, self.seed, k=SCENE_MASTER_CANDIDATES,
            scenarios=self.scenarios,
        )
        ids = [tp.id for tp in candidates]
        if len(candidates) == 1:
            return Selection(candidates[0], "scene_master", f"the only candidate: {heuristic}", ids)
        context = {
            **self._pair_context(),
            "story_so_far": self.history[-3:],
            "state": self.state.values() if self.state is not None else None,
            "commitment": commitment,
            "scene_index": index,
            "candidates": [
                {"id": tp.id, "category": tp.category, "title": tp.title,
                 "scenario": tp.scenario_for(*self._names().values())}
                for tp in candidates
            ],
        }
        result = await call_structured(
            self.provider,
            prompts.render("scene_choice", context, **self._names()),
            SceneChoice,
            purpose="scene_choice",
            context=context,
            validation_context=validation_context_for("scene_choice", context),
        )
        chosen = next(tp for tp in candidates if tp.id == result.value.turning_point)
        return Selection(chosen, "scene_master", result.value.reason, ids)

    def restore_summary(self, summary: SceneSummary) -> None:
        self._require_scene().summary = summary

    def summarize(self) -> SceneSummary:
        return run_sync(self.summarize_async(), "SceneMaster.summarize_async")

    async def commitment_score_async(
        self, agent: RelationshipAgent, reflections: dict[str, str] | None = None
    ) -> CommitmentScore:
        """``agent``'s own commitment (0–10) to the relationship after the current scene, from
        the summary, the scene's transcript and (when given) both partners' reflections."""
        return await self._commitment_once(agent, reflections, None)

    async def commitment_samples_async(
        self, agent: RelationshipAgent, reflections: dict[str, str] | None = None
    ) -> tuple[CommitmentScore, list[int], float]:
        """``commitment_samples`` scores at once, averaged (rounded to integers); also returns
        every sample's commitment and their standard deviation."""
        n = self.commitment_samples
        if n == 1:
            score = await self._commitment_once(agent, reflections, None)
            return score, [score.commitment], 0.0
        samples = await asyncio.gather(
            *(self._commitment_once(agent, reflections, i) for i in range(n))
        )
        values = [s.commitment for s in samples]

        def avg(field_name: str) -> int:
            return round(fmean(getattr(s, field_name) for s in samples))

        mean = CommitmentScore(
            reasoning=samples[0].reasoning,
            satisfaction=avg("satisfaction"),
            quality_of_alternatives=avg("quality_of_alternatives"),
            investment=avg("investment"),
            commitment=avg("commitment"),
        )
        return mean, values, round(pstdev(values), 3)

    async def _commitment_once(
        self, agent: RelationshipAgent, reflections: dict[str, str] | None, sample: int | None
    ) -> CommitmentScore:
        scene = self._require_scene()
        if scene.summary is None:
            raise RuntimeError("summarize the scene before scoring commitment")
        felt = scene.emotions.get(agent.name)
        emotions = (
            {e: round(fmean(v[i] for v in felt), 3) for i, e in enumerate(EMOTIONS)}
            if felt
            else None
        )
        partner = agent.partner
        assert partner is not None
        context = {
            "self": agent.profile(),
            "partner": partner.name,
            "partner_profile": partner.profile(inner=False),
            "turning_point": self._tp_context(),
            "scene_index": scene.index,
            "previous_scores": self.scores[agent.name],
            "previous_components": self.components.get(agent.name),
            "summary": scene.summary.summary,
            "transcript": _visible(scene.transcript),
            "reflections": reflections or {},
            "emotions": emotions,
        }
        if sample is not None:
            # Distinct requests, so samples are not coalesced into one call.
            context["sample"] = sample + 1
        result = await call_structured(
            self.commitment_provider,
            prompts.render("commitment", context, self=agent.name, partner=partner.name,
                           **self._names()),
            CommitmentScore,
            purpose="commitment",
            agent=agent.name,
            context=context,
        )
        return result.value

    def commitment_score(
        self, agent: RelationshipAgent, reflections: dict[str, str] | None = None
    ) -> CommitmentScore:
        return run_sync(
            self.commitment_score_async(agent, reflections), "SceneMaster.commitment_score_async"
        )

    def close_scene(
        self, scores: dict[str, int], components: dict[str, dict[str, int]] | None = None
    ) -> None:
        """Carry the finished scene's summary, scores and score components forward."""
        scene = self._require_scene()
        assert scene.summary is not None
        self.history.append(scene.summary.summary)
        for name, score in scores.items():
            self.scores[name].append(score)
        self.components.update(components or {})

    # -- next scene ----------------------------------------------------------------------------

    async def next_scene_async(self) -> Transition | None:
        """Move to the next turning point with a bridging narration; None when the simulation
        is over (the plan is done, the maximum reached or the relationship ended)."""
        plan = self.ensure_plan()
        scene = self._require_scene()
        following = self.scene_index + 1
        limit = self.max_scenes if self.dynamic else len(plan)
        if following >= limit or (self.ended_early and self.outcome is not None):
            self.scene_index = following
            return None
        if following == len(plan):
            await self.select_next_scene_async(following)
        context = {
            **self._pair_context(),
            "previous": self._tp_context(),
            "next": {"id": plan[following].id, "title": plan[following].title},
            "summary": scene.summary.summary if scene.summary else "",
        }
        result = await call_structured(
            self.provider,
            prompts.render("transition", context, next=plan[following].title, **self._names()),
            Transition,
            purpose="transition",
            context=context,
        )
        self.scene_index = following
        self.bridge = result.value.bridge
        return result.value

    def next_scene(self) -> Transition | None:
        return run_sync(self.next_scene_async(), "SceneMaster.next_scene_async")

    # -- after-action report -------------------------------------------------------------------

    async def after_action_report_result(
        self, commitment_log: Sequence[Any] = ()
    ) -> StructuredResult[AfterActionReport]:
        outcome = self.final_outcome()
        scenes = []
        for i, entry in enumerate(commitment_log):
            scenes.append(
                {
                    "scene_index": entry.scene_index,
                    "title": entry.turning_point.title,
                    "category": entry.turning_point.category,
                    "summary": entry.summary,
                    "commitment": {n: c.score for n, c in entry.commitments.items()},
                    "state": self.state_values[i] if i < len(self.state_values) else None,
                }
            )
        context = {
            **self._pair_context(),
            "scenes": scenes,
            "ended_early": self.ended_early,
            "outcome": outcome,
        }
        fallback = AfterActionReport(
            trajectory="(no report: fallback)", key_scenes=[], risk_markers=[],
            strength_markers=[], predicted_outcome=outcome, probability=0.5,
        )
        return await call_structured(
            self.provider,
            prompts.render("after_action_report", context, **self._names()),
            AfterActionReport,
            purpose="after_action_report",
            context=context,
            fallback=fallback,
        )

    async def after_action_report_async(
        self, commitment_log: Sequence[Any] = ()
    ) -> AfterActionReport:
        """The couple-facing report at the end: trajectory, the scenes that changed most and
        why, risk and strength markers, the predicted outcome with its probability."""
        return (await self.after_action_report_result(commitment_log)).value

    def after_action_report(self, commitment_log: Sequence[Any] = ()) -> AfterActionReport:
        return run_sync(
            self.after_action_report_async(commitment_log), "SceneMaster.after_action_report_async"
        )


def _visible(transcript: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    """What both partners could see and hear of each turn (never anyone's inner thoughts)."""
    return [{k: t[k] for k in ("actor", "line", "behaviour") if k in t} for t in transcript]
