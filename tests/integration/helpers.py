"""Shared bits for the loopback HTTP tests: providers, simulations, event counts."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from engine.events import EventBase
from engine.llm.openai_provider import OpenAIProvider
from engine.llm.settings import Limits, RetryPolicy, parse_model
from engine.llm.types import Provider
from engine.sim.agent import RelationshipAgent
from engine.sim.scene_master import SceneMaster
from engine.sim.simulation import Simulation

FAST_RETRY = RetryPolicy(max_retries=12, base_s=0.002, cap_s=0.02, timeout_s=0.4)
TRANSPORT_CLASSES = ("rate_limit", "transient")


def provider_for(base_url: str, *, retry: RetryPolicy = FAST_RETRY, api_key: str | None = None,
                 limits: Limits | None = None, **kwargs: Any) -> OpenAIProvider:
    settings = parse_model("openai-compatible/sim", base_url=base_url, retry=retry,
                           api_key=api_key, limits=limits, env={}, **kwargs)
    return OpenAIProvider(settings)


def make_simulation(provider: Provider, seed: int, events: list[EventBase], *, scenes: int = 1,
                    pair: tuple[str, str] = ("aiko-tanaka", "kwame-asante")) -> Simulation:
    a = RelationshipAgent.from_persona(pair[0], model=provider)
    b = RelationshipAgent.from_persona(pair[1], model=provider)
    sm = SceneMaster(a, b, model=provider)
    return Simulation(sm, a, b, seed=seed, num_scenes=scenes, sink=events.append,
                      sim_id=f"sim{seed}")


async def run_batch(provider: Provider, seeds: list[int], *, beats: int = 1,
                    scenes: int = 1) -> tuple[list[EventBase], list[Any]]:
    """Run one simulation per seed concurrently; (all events, each result or exception)."""
    events: list[EventBase] = []
    sims = [make_simulation(provider, s, events, scenes=scenes) for s in seeds]
    results = await asyncio.gather(*(sim.run_auto_async(beats) for sim in sims),
                                   return_exceptions=True)
    return events, list(results)


def retry_counts(events: list[EventBase]) -> Counter[str]:
    return Counter(e.error_class for e in events if e.type == "retry_warning")  # type: ignore[attr-defined]


def transcript(events: list[EventBase]) -> list[dict[str, Any]]:
    """The content of a run: every event except timing and accounting."""
    skip = {"call_completed", "endpoint_status"}
    return [e.model_dump(mode="json", exclude={"t", "latency_s"}) for e in events
            if e.type not in skip]  # type: ignore[attr-defined]
