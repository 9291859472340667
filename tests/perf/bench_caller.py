"""Structured calls per second through the full caller path on `sim` (zero latency, events on).

Target (issue 2): >= 5,000 calls/s in one process. Run: python tests/perf/bench_caller.py
"""

from __future__ import annotations

import asyncio
import time

from engine.events import EventBase
from engine.llm.caller import call_structured
from engine.llm.scope import CallScope, call_scope
from engine.sim import prompts
from engine.sim.personas import find_persona
from engine.sim.provider import SimProvider
from engine.sim.schemas import CommitmentScore
from engine.sim.turning_points import build_plan

TARGET = 5000.0


async def measure(calls: int = 20000, concurrency: int = 100) -> float:
    provider = SimProvider()
    a, b = find_persona("aiko-tanaka"), find_persona("kwame-asante")
    tp = build_plan(10, 0)[3]
    events: list[EventBase] = []
    base = {
        "self": a.profile(),
        "partner": b.name,
        "partner_profile": b.profile(),
        "turning_point": {
            "id": tp.id,
            "category": tp.category,
            "title": tp.title,
            "scenario": tp.scenario_for(a.name, b.name),
        },
        "summary": "They talked it through.",
        "emotions": None,
    }

    async def worker(n: int) -> None:
        for i in range(n):
            context = {**base, "scene_index": i % 10, "previous_scores": [i % 11]}
            await call_structured(
                provider,
                prompts.render("commitment", context, self=a.name, partner=b.name),
                CommitmentScore,
                purpose="commitment",
                agent=a.name,
                context=context,
            )

    with call_scope(CallScope(events.append, "bench", 0)):
        start = time.perf_counter()
        await asyncio.gather(*(worker(calls // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    assert len(events) == calls, len(events)  # one CallCompleted per call: events were on
    return calls / elapsed


def test_structured_calls_per_second() -> None:
    rate = asyncio.run(measure())
    print(
        f"\nstructured calls/s on sim (full caller path, events on): {rate:,.0f}"
        f" (target {TARGET:,.0f})"
    )
    assert rate >= TARGET


if __name__ == "__main__":
    test_structured_calls_per_second()
