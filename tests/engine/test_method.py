"""The RELATE-Sim method on the built-in simulator: event order, both partners appraise, the
partner's previous line reaches the actor, states and outcomes, categories across a batch."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

from engine import RelationshipAgent, SceneMaster, Simulation, list_personas
from engine.events import (
    ActionTaken,
    AfterActionReported,
    AppraisalMade,
    EventBase,
    OptionsFramed,
    SceneSelected,
    SceneStarted,
    SimulationCompleted,
    StateInferred,
)
from engine.llm.types import ChatRequest, ChatResult
from engine.sim.prompts import context_from_messages
from engine.sim.provider import SimProvider
from engine.sim.schemas import STATE_VARIABLES


class _Recording:
    """The simulator, keeping every request (to check what reached each prompt)."""

    def __init__(self) -> None:
        self.inner = SimProvider()
        self.model, self.label = "sim", self.inner.label
        self.requests: list[ChatRequest] = []

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        return await self.inner.chat(request)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self.inner.embed(texts)

    async def aclose(self) -> None:
        return None


def _run(provider: object, seed: int = 1, scenes: int = 3, beats: int = 3,
         policy: str | None = None) -> tuple[Simulation, list[EventBase]]:
    a = RelationshipAgent.from_persona("aiko-tanaka", model=provider)  # type: ignore[arg-type]
    b = RelationshipAgent.from_persona("kwame-asante", model=provider)  # type: ignore[arg-type]
    events: list[EventBase] = []
    sm = SceneMaster(a, b, model=provider, policy=policy)  # type: ignore[arg-type]
    sim = Simulation(sm, a, b, seed=seed, num_scenes=scenes, sink=events.append)
    asyncio.run(sim.run_auto_async(beats))
    return sim, events


def test_new_events_in_order_and_both_partners_appraise() -> None:
    _, events = _run("sim")
    types = [e.type for e in events]
    # Per scene: chosen, then played; per beat: options, the actor's appraisal, the action and
    # then the spoken-to partner's appraisal; the state after the scene; a report at the end.
    assert types.index("scene_selected") < types.index("scene_started")
    beat = [e for e in events if getattr(e, "scene_index", None) == 0
            and e.type in ("options_framed", "appraisal", "action")]
    kinds = [(e.type, getattr(e, "responding_to", None) is not None) for e in beat]
    assert kinds[:4] == [("options_framed", False), ("appraisal", False), ("action", False),
                         ("appraisal", True)]
    actions = [e for e in events if isinstance(e, ActionTaken)]
    heard = [e for e in events if isinstance(e, AppraisalMade) and e.responding_to]
    assert len(heard) == len(actions) == 9
    for action, appraisal in zip(actions, heard, strict=True):
        assert appraisal.responding_to == action.agent and appraisal.agent != action.agent
        assert action.approach in {"repair", "assert", "withdraw", "escalate", "deflect", "affirm"}
    framed = [e for e in events if isinstance(e, OptionsFramed)]
    assert all(3 <= len(f.options) <= 4 for f in framed)
    assert len({o["approach"] for f in framed for o in f.options}) >= 5
    states = [e for e in events if isinstance(e, StateInferred)]
    assert [s.scene_index for s in states] == [0, 1, 2]
    assert all(set(s.state) == set(STATE_VARIABLES) and not s.fallback for s in states)
    assert all(s.state[v]["evidence"] for s in states for v in STATE_VARIABLES)
    assert types[-2:] == ["after_action_report", "simulation_completed"]
    done = events[-1]
    assert isinstance(done, SimulationCompleted) and done.outcome in ("together", "separated")
    report = events[-2]
    assert isinstance(report, AfterActionReported) and 0 <= report.probability <= 1
    selected = [e for e in events if isinstance(e, SceneSelected)]
    started = [e for e in events if isinstance(e, SceneStarted)]
    assert [s.turning_point.id for s in selected] == [s.turning_point.id for s in started]
    assert all(s.policy == "state" and s.reason for s in selected)


def test_partner_context_has_the_previous_line_and_never_inner_thoughts() -> None:
    provider = _Recording()
    _, events = _run(provider, scenes=1, beats=3)
    actions = [e for e in events if isinstance(e, ActionTaken)]
    contexts = []
    for r in provider.requests:
        ctx = context_from_messages(r.messages) or {}
        contexts.append((r.purpose, (ctx.get("self") or {}).get("name"), ctx))
    for previous, action in itertools.pairwise(actions):
        # The actor of this beat saw the previous line in its appraisal and action prompts.
        for purpose in ("appraisal", "action"):
            seen = [c for p, ag, c in contexts if p == purpose and ag == action.agent
                    and any(t.get("line") == previous.line for t in c.get("transcript", []))]
            assert seen, (purpose, action.agent)
    thoughts = {a.inner_thoughts for a in actions}
    for purpose, agent, ctx in contexts:
        text = str(ctx)
        leaked = [t for t in thoughts if t in text]
        # Inner thoughts (the actors' private ones) reach no prompt at all.
        assert not leaked, (purpose, agent)


def test_scene_master_policy_and_fixed_policy() -> None:
    _, events = _run("sim", scenes=2, beats=1, policy="scene_master")
    selected = [e for e in events if isinstance(e, SceneSelected)]
    assert all(s.policy == "scene_master" and len(s.candidates) > 1 for s in selected)
    assert all(s.turning_point.id in s.candidates for s in selected)
    _, events = _run("sim", scenes=2, beats=1, policy="fixed")
    assert {e.policy for e in events if isinstance(e, SceneSelected)} == {"fixed"}


def test_across_all_shipped_pairs_every_category_appears_and_some_separate() -> None:
    async def one(pa: object, pb: object, seed: int) -> list[EventBase]:
        a = RelationshipAgent(pa.name, pa, model="sim")  # type: ignore[attr-defined]
        b = RelationshipAgent(pb.name, pb, model="sim")  # type: ignore[attr-defined]
        events: list[EventBase] = []
        await Simulation(SceneMaster(a, b, model="sim"), a, b, seed=seed,
                         sink=events.append).run_auto_async(2)
        return events

    async def all_pairs() -> list[list[EventBase]]:
        pairs = list(itertools.combinations(list_personas(), 2))
        return await asyncio.gather(*(one(a, b, i) for i, (a, b) in enumerate(pairs)))

    runs = asyncio.run(all_pairs())
    categories = Counter(
        e.turning_point.category for run in runs for e in run if isinstance(e, SceneStarted)
    )
    assert len(categories) == 7
    outcomes = Counter(e.outcome for run in runs for e in run if isinstance(e, SimulationCompleted))
    assert outcomes["separated"] > 0 and outcomes["together"] > outcomes["separated"]
    early = [e for run in runs for e in run if isinstance(e, SimulationCompleted) and e.ended_early]
    assert early and all(e.outcome == "separated" and len(e.commitment_log) < 10 for e in early)
