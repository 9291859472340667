"""RelationshipAgent: one partner, played by a model, with memory and emotions."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine._sync import run_sync
from engine.llm.caller import StructuredResult, call_structured
from engine.llm.registry import resolve_model
from engine.llm.types import Provider
from engine.sim import prompts
from engine.sim.memory import MemoryItem, MemoryStore, attach_embeddings, pack_emotions
from engine.sim.personas import Persona, find_persona
from engine.sim.records import Role
from engine.sim.schemas import (
    Action,
    Appraisal,
    Choices,
    Emotions,
    MemoryAppraisals,
    Option,
    Reflection,
    validation_context_for,
)

if TYPE_CHECKING:
    from engine.sim.turning_points import TurningPoint

RECALL_K = 4

# Each persona's two prompt profiles, by the persona's id() while it lives. Every prompt of a
# simulation carries one or two profiles; built once per persona, the same dicts serve every
# call of every simulation that plays it (personas are frozen). Callers only read them.
_PROFILES: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}


def _profiles_of(persona: Persona) -> tuple[dict[str, Any], dict[str, Any]]:
    """``persona``'s (inner, outer) profiles, shared."""
    key = id(persona)
    profiles = _PROFILES.get(key)
    if profiles is None:
        profiles = _PROFILES[key] = (persona.profile(), persona.profile(inner=False))
        # Forgotten with the persona, before its id() can be reused.
        weakref.finalize(persona, _PROFILES.pop, key, None)
    return profiles


@dataclass(slots=True)
class SceneFrame:
    """What an agent knows about the scene it is in (set by the Scene Master)."""

    turning_point: TurningPoint
    scenario: str
    setting: str
    goal: str
    # The Scene Master's private briefing (generate_context): how this partner walks in.
    perspective: str = ""
    opening: str = ""
    index: int | None = None
    # The scene's transcript, shared with the Scene Master (turns: actor, line, behaviour…).
    transcript: list[dict[str, str]] = field(default_factory=list)
    context_turns: int = 6

    def recent_turns(self) -> list[dict[str, str]]:
        """The last ``context_turns`` turns as both partners saw and heard them."""
        return [
            {k: t[k] for k in ("actor", "line", "behaviour") if k in t}
            for t in self.transcript[-self.context_turns :]
        ]


class RelationshipAgent:
    """A partner in the simulated couple.

    ``persona`` is free text or a Persona (see ``personas/``). Each LLM-calling method has an
    ``_async`` form (the implementation) and a sync form (a thin wrapper).
    """

    def __init__(
        self,
        name: str,
        persona: str | Persona,
        *,
        model: str | Provider | None = None,
        identity_memories: Sequence[str] | None = None,
    ) -> None:
        if isinstance(persona, Persona):
            self.persona = (
                persona if persona.name == name else persona.model_copy(update={"name": name})
            )
        else:
            self.persona = Persona(name=name, summary=persona)
        self.name = name
        self.provider = resolve_model(model)
        self.memory = MemoryStore()
        self.emotions = Emotions.neutral()
        self.role: Role | None = None
        self.partner: RelationshipAgent | None = None
        self.scene: SceneFrame | None = None
        for text in identity_memories if identity_memories is not None else self.persona.memories:
            self.memory.add(MemoryItem(text=text, kind="identity"))

    @classmethod
    def from_persona(cls, key: str, *, model: str | Provider | None = None) -> RelationshipAgent:
        """Load a persona file by id, first name or path."""
        persona = find_persona(key)
        return cls(persona.name, persona, model=model)

    def __repr__(self) -> str:
        return f"RelationshipAgent({self.name!r}, role={self.role!r})"

    # -- context -------------------------------------------------------------------------------

    def profile(self, *, inner: bool = True) -> dict[str, Any]:
        """What prompts say about this partner (``Persona.profile``): shared by every prompt
        about the same persona, so read it, never modify it."""
        inner_profile, outer_profile = _profiles_of(self.persona)
        return inner_profile if inner else outer_profile

    def _context(
        self,
        situation: str | None = None,
        recalled: Sequence[MemoryItem] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """The facts a prompt gets, ordered for prefix caching: who (persona, synopsis, rules),
        the scene (turning point, setting, opening, briefing), then what changes: memories,
        the transcript so far, the moment, the call's own extras."""
        partner = self.partner
        context: dict[str, Any] = {
            "self": self.profile(),
            "partner": partner.name if partner else "your partner",
        }
        if partner is not None:
            context["partner_profile"] = partner.profile(inner=False)
        if self.scene is not None:
            tp = self.scene.turning_point
            context["turning_point"] = {
                "id": tp.id,
                "category": tp.category,
                "title": tp.title,
                "scenario": self.scene.scenario,
            }
            context["setting"] = self.scene.setting
            context["goal"] = self.scene.goal
            if self.scene.opening:
                context["opening"] = self.scene.opening
            if self.scene.perspective:
                context["perspective"] = self.scene.perspective
        if recalled is not None:
            context["memories"] = [m.text for m in recalled]
        if self.scene is not None:
            context["transcript"] = self.scene.recent_turns()
        if situation is not None:
            context["situation"] = situation
        context.update(extra)
        return context

    def _names(self) -> dict[str, str]:
        return {"self": self.name, "partner": self.partner.name if self.partner else "your partner"}

    # -- memory --------------------------------------------------------------------------------

    async def recall_async(self, situation: str, k: int = RECALL_K) -> list[MemoryItem]:
        """Memories relevant to ``situation``; embeds it with any memories not yet embedded,
        in one embedding call."""
        # Read the mood and the memories before awaiting: an appraisal or another recall
        # running alongside may change them, and the answer must not depend on which reply
        # lands first (a replayed run must ask exactly what the recorded run asked).
        mood = self.emotions.vector()
        candidates = list(self.memory.items)
        # The current scene is in the prompt as its transcript: recall reaches further back.
        current = self.scene.index if self.scene is not None else None
        pending = [m for m in candidates if m.embedding is None]
        vectors = await self.provider.embed([situation, *(m.text for m in pending)])
        attach_embeddings(pending, vectors[1:])
        return self.memory.retrieve(vectors[0], mood, k, exclude_scene=current, among=candidates)

    def remember(
        self, text: str, kind: str, scene_index: int | None, emotions: Emotions | None = None
    ) -> None:
        self.memory.add(
            MemoryItem(
                text=text,
                kind=kind,
                scene_index=scene_index,
                emotions=pack_emotions(emotions.vector()) if emotions else None,
            )
        )

    # -- appraise ------------------------------------------------------------------------------

    async def appraise_result(
        self, situation: str, memories: Sequence[MemoryItem] | None = None
    ) -> StructuredResult[Appraisal]:
        context = self._context(
            situation, memories or [], current_emotions=self.emotions.model_dump()
        )
        result = await call_structured(
            self.provider,
            prompts.render("appraisal", context, **self._names()),
            Appraisal,
            purpose="appraisal",
            agent=self.name,
            fallback=Appraisal.neutral(),
            context=context,
        )
        self.emotions = result.value.emotions
        return result

    async def appraise_async(
        self, situation: str, memories: Sequence[MemoryItem] | None = None
    ) -> Appraisal:
        """Plutchik-8 emotions (0–1) and inner thoughts. Non-critical: a neutral appraisal,
        marked as a fallback in the events, stands in after 3 failed attempts."""
        return (await self.appraise_result(situation, memories)).value

    def appraise(self, situation: str) -> Appraisal:
        return run_sync(self.appraise_async(situation), "RelationshipAgent.appraise_async")

    # -- choices and action --------------------------------------------------------------------

    async def make_choices_async(
        self, situation: str, memories: Sequence[MemoryItem] | None = None
    ) -> list[Option]:
        """Options this partner writes for itself (the seed's way). In a Simulation the Scene
        Master frames them instead (``SceneMaster.frame_options_async``)."""
        context = self._context(situation, memories or [])
        result = await call_structured(
            self.provider,
            prompts.render("choices", context, **self._names()),
            Choices,
            purpose="choices",
            agent=self.name,
            context=context,
        )
        return list(result.value.options)

    def make_choices(self, situation: str) -> list[Option]:
        return run_sync(self.make_choices_async(situation), "RelationshipAgent.make_choices_async")

    async def act_async(
        self,
        situation: str,
        options: Sequence[Option] | None = None,
        memories: Sequence[MemoryItem] | None = None,
    ) -> Action:
        """Choose one of the offered options (made now if none are given) and say the line.
        The prompt has the scene so far, the recalled memories and the current emotions."""
        if options is None or memories is None:
            made, recalled = await asyncio.gather(
                self.make_choices_async(situation) if options is None else _given(options),
                self.recall_async(situation) if memories is None else _given(memories),
            )
            options, memories = made, recalled
        context = self._context(
            situation,
            memories,
            emotions=self.emotions.model_dump(),
            options=[
                {"number": i + 1, **o.model_dump(exclude_none=True)} for i, o in enumerate(options)
            ],
        )
        result = await call_structured(
            self.provider,
            prompts.render("action", context, **self._names()),
            Action,
            purpose="action",
            agent=self.name,
            context=context,
            validation_context=validation_context_for("action", context),
        )
        return result.value

    def act(self, situation: str, options: Sequence[Option] | None = None) -> Action:
        return run_sync(self.act_async(situation, options), "RelationshipAgent.act_async")

    # -- reflection ----------------------------------------------------------------------------

    async def reflect_async(self, scene_summary: str) -> Reflection:
        context = self._context(summary=scene_summary)
        result = await call_structured(
            self.provider,
            prompts.render("reflection", context, **self._names()),
            Reflection,
            purpose="reflection",
            agent=self.name,
            context=context,
        )
        return result.value

    def reflect(self, scene_summary: str) -> Reflection:
        return run_sync(self.reflect_async(scene_summary), "RelationshipAgent.reflect_async")

    # -- identity memories ---------------------------------------------------------------------

    async def batch_appraise_memory_async(
        self, memories: Sequence[str] | None = None, batch_size: int = 5
    ) -> list[MemoryItem]:
        """Appraise identity memories in batches and store them with emotions and embeddings.

        ``memories`` are added first if given; otherwise the agent's unappraised identity
        memories are used. Non-critical: a batch that fails every attempt gets neutral emotions
        (a declared fallback). Returns the appraised items; ``fallback_count`` of them fell back.
        """
        return (await self.appraise_memories(memories, batch_size))[0]

    async def appraise_memories(
        self, memories: Sequence[str] | None = None, batch_size: int = 5
    ) -> tuple[list[MemoryItem], int]:
        if memories is not None:
            for text in memories:
                self.memory.add(MemoryItem(text=text, kind="identity"))
        items = [m for m in self.memory.items if m.kind == "identity" and m.emotions is None]
        if not items:
            return [], 0
        batches = [items[i : i + batch_size] for i in range(0, len(items), max(1, batch_size))]
        # Embedding does not depend on the appraisals: one round trip for all of it.
        vectors, *results = await asyncio.gather(
            self.provider.embed([m.text for m in items]),
            *(self._appraise_batch(b) for b in batches),
        )
        attach_embeddings(items, vectors)
        fallbacks = sum(len(b) for b, fell_back in zip(batches, results, strict=True) if fell_back)
        return items, fallbacks

    async def _appraise_batch(self, batch: list[MemoryItem]) -> bool:
        context = self._context(
            memories=[{"index": i, "text": m.text} for i, m in enumerate(batch)]
        )
        fallback = MemoryAppraisals(
            appraisals=[{"index": i, "emotions": Emotions.neutral()} for i in range(len(batch))]  # type: ignore[list-item]
        )
        result = await call_structured(
            self.provider,
            prompts.render("memory_appraisal", context, **self._names()),
            MemoryAppraisals,
            purpose="memory_appraisal",
            agent=self.name,
            fallback=fallback,
            context=context,
            validation_context=validation_context_for("memory_appraisal", context),
        )
        for appraisal in result.value.appraisals:
            batch[appraisal.index].emotions = pack_emotions(appraisal.emotions.vector())
        return result.fallback

    def batch_appraise_memory(
        self, memories: Sequence[str] | None = None, batch_size: int = 5
    ) -> list[MemoryItem]:
        return run_sync(
            self.batch_appraise_memory_async(memories, batch_size),
            "RelationshipAgent.batch_appraise_memory_async",
        )


async def _given(value: Any) -> Any:
    return value
