"""SceneMaster: stages each turning point, advances it beat by beat, summarises and scores it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from engine._sync import run_sync
from engine.errors import ConfigError
from engine.llm.caller import call_structured, call_text
from engine.llm.registry import resolve_model
from engine.llm.types import Provider
from engine.sim import prompts
from engine.sim.agent import RelationshipAgent, SceneFrame
from engine.sim.schemas import (
    EMOTIONS,
    Beat,
    CommitmentScore,
    Emotions,
    SceneSetup,
    SceneSummary,
    Transition,
    validation_context_for,
)
from engine.sim.turning_points import DEFAULT_SCENES, TurningPoint, build_plan, get_turning_point

TRANSCRIPT_WINDOW = 6


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
    plan of ``num_scenes`` is drawn from the library with the simulation's seed."""

    def __init__(
        self,
        agent1: RelationshipAgent,
        agent2: RelationshipAgent,
        *,
        model: str | Provider | None = None,
        commitment_model: str | Provider | None = None,
        plan: Sequence[TurningPoint | str] | None = None,
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
        self.plan: list[TurningPoint] | None = (
            [tp if isinstance(tp, TurningPoint) else get_turning_point(tp) for tp in plan]
            if plan is not None
            else None
        )
        self.scene_index = 0
        self.scene: SceneState | None = None
        self.history: list[str] = []
        self.scores: dict[str, list[int]] = {agent1.name: [], agent2.name: []}
        self.bridge: str | None = None

    # -- plan ----------------------------------------------------------------------------------

    def ensure_plan(self, num_scenes: int = DEFAULT_SCENES, seed: int = 0) -> list[TurningPoint]:
        if self.plan is None:
            self.plan = build_plan(num_scenes, seed)
        return self.plan

    @property
    def finished(self) -> bool:
        return self.plan is not None and self.scene_index >= len(self.plan)

    def _pair_context(self) -> dict[str, Any]:
        a, b = self.agents
        return {"a": a.profile(), "b": b.profile()}

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
            if self.scene_index >= len(plan):
                raise RuntimeError("the scene plan is finished")
            tp = plan[self.scene_index]
        else:
            tp = (
                turning_point
                if isinstance(turning_point, TurningPoint)
                else get_turning_point(turning_point)
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
        for agent, goal in ((a, setup.goal_a), (b, setup.goal_b)):
            agent.scene = SceneFrame(tp, scenario, setup.setting, goal)
        return setup

    def restore_scene(
        self, index: int, turning_point_id: str, scenario: str, setup: SceneSetup
    ) -> None:
        """Re-enter a scene recorded in a run log, without calling the model."""
        tp = get_turning_point(turning_point_id)
        self.scene_index = index
        self.scene = SceneState(index=index, turning_point=tp, scenario=scenario, setup=setup)
        a, b = self.agents
        for agent, goal in ((a, setup.goal_a), (b, setup.goal_b)):
            agent.scene = SceneFrame(tp, scenario, setup.setting, goal)

    def initialize(self, turning_point: TurningPoint | str | None = None) -> SceneSetup:
        return run_sync(self.initialize_async(turning_point), "SceneMaster.initialize_async")

    # -- context -------------------------------------------------------------------------------

    async def generate_context_async(self, agent: RelationshipAgent) -> str:
        """The Scene Master's private framing of the scene for one partner (free text), which
        that partner then carries into its appraisals, choices and actions."""
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
        names = {"self": agent.name, "partner": context["partner"]}
        text = await call_text(
            self.provider,
            prompts.render("perspective", context, **names),
            purpose="perspective",
            agent=agent.name,
            context=context,
        )
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
        context = {
            **self._pair_context(),
            "turning_point": self._tp_context(),
            "setting": scene.setup.setting,
            "conflict": scene.setup.conflict,
            "beat": scene.beat,
            "transcript": scene.transcript[-TRANSCRIPT_WINDOW:],
            "actors": actors,
        }
        result = await call_structured(
            self.provider,
            prompts.render("beat", context, beat=str(scene.beat), beats="?", **self._names()),
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
        self, agent: RelationshipAgent, option: str, line: str, behaviour: str
    ) -> None:
        self._require_scene().transcript.append(
            {"actor": agent.name, "option": option, "line": line, "behaviour": behaviour}
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

    def restore_summary(self, summary: SceneSummary) -> None:
        self._require_scene().summary = summary

    def summarize(self) -> SceneSummary:
        return run_sync(self.summarize_async(), "SceneMaster.summarize_async")

    async def commitment_score_async(self, agent: RelationshipAgent) -> CommitmentScore:
        """``agent``'s own commitment (0–10) to the relationship after the current scene."""
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
            "partner_profile": partner.profile(),
            "turning_point": self._tp_context(),
            "scene_index": scene.index,
            "summary": scene.summary.summary,
            "emotions": emotions,
            "previous_scores": self.scores[agent.name],
        }
        result = await call_structured(
            self.commitment_provider,
            prompts.render("commitment", context, self=agent.name, partner=partner.name),
            CommitmentScore,
            purpose="commitment",
            agent=agent.name,
            context=context,
        )
        return result.value

    def commitment_score(self, agent: RelationshipAgent) -> CommitmentScore:
        return run_sync(self.commitment_score_async(agent), "SceneMaster.commitment_score_async")

    def close_scene(self, scores: dict[str, int]) -> None:
        """Carry the finished scene's summary and scores forward."""
        scene = self._require_scene()
        assert scene.summary is not None
        self.history.append(scene.summary.summary)
        for name, score in scores.items():
            self.scores[name].append(score)

    # -- next scene ----------------------------------------------------------------------------

    async def next_scene_async(self) -> Transition | None:
        """Move to the next turning point with a bridging narration; None when the plan is done."""
        plan = self.ensure_plan()
        scene = self._require_scene()
        following = self.scene_index + 1
        if following >= len(plan):
            self.scene_index = following
            return None
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
