"""Prompts are built stable-first, so a serving engine's prefix cache reuses them: two
consecutive calls of one agent for the same purpose share a prefix that covers the system text,
the persona and the scene's opening; only what changed (transcript, the moment) differs."""

from __future__ import annotations

import os

from engine.llm.types import ChatRequest, ChatResult
from engine.sim.agent import RelationshipAgent
from engine.sim.provider import SimProvider
from engine.sim.scene_master import SceneMaster
from engine.sim.simulation import Simulation


class Recording(SimProvider):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[ChatRequest] = []

    async def chat(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        return await super().chat(request)


def _text(request: ChatRequest) -> str:
    return "\n".join(m["content"] for m in request.messages)


async def test_consecutive_calls_of_one_agent_share_the_stable_prefix() -> None:
    provider = Recording()
    a = RelationshipAgent.from_persona("aiko-tanaka", model=provider)
    b = RelationshipAgent.from_persona("kwame-asante", model=provider)
    sim = Simulation(SceneMaster(a, b, model=provider), a, b, seed=3, num_scenes=1)
    await sim.run_auto_async(8)
    actions = [r for r in provider.requests if r.purpose == "action" and a.name in _text(r)
               and r.context is not None and r.context.get("self", {}).get("name") == a.name]
    assert len(actions) >= 2
    first, second = _text(actions[0]), _text(actions[1])
    shared = os.path.commonprefix([first, second])  # noqa: RUF071 (characters: the point)
    assert shared != first  # the moment differs …
    # … after the system text, the persona and the scene's opening.
    assert actions[0].messages[0]["content"] in shared
    persona = actions[0].context["self"]  # type: ignore[index]
    assert str(persona["name"]) in shared
    opening = actions[0].context.get("opening")  # type: ignore[union-attr]
    assert opening and opening in shared
    assert len(shared) > 0.5 * len(first)


def test_calls_of_one_speaker_share_one_preamble_string() -> None:
    from engine.sim import prompts

    names = {"self": "Aiko Tanaka", "partner": "Kwame Asante"}
    first = prompts.render("appraisal", {"situation": "one"}, **names)
    second = prompts.render("reflection", {"summary": "two"}, **names)
    assert first[0]["content"] is second[0]["content"]
    assert first[0]["content"] == prompts.PARTNER_PREAMBLE.substitute(names)
    other = prompts.render("appraisal", {}, self="Kwame Asante", partner="Aiko Tanaka")
    assert other[0]["content"].startswith("You are Kwame Asante,")
    master = prompts.render("summary", {}, a="Aiko Tanaka", b="Kwame Asante")
    assert master[0]["content"] == prompts.SCENE_MASTER_PREAMBLE.substitute(
        a="Aiko Tanaka", b="Kwame Asante"
    )
