"""End-to-end structured calls/s from the engine to `relsim serve`, over each HTTP client library
(pyreqwest, the default, and httpx), against an AsyncOpenAI baseline.

The server runs in its own process pinned to CPU 1, the client is pinned to CPU 0 (on a 2-core
machine that is "client on one core, server on the other"). Zero latency, no faults.

Targets (issue 3): relsim on pyreqwest >= 2,500 calls/s and >= 3x the baseline's calls/s, with
relsim doing its validation, events, accounting and logging. relsim on httpx is printed, not held
to a target: it is the choice for proxies and custom TLS, not for speed.

Run: python -m pytest tests/perf/bench_http.py -s   (or: python tests/perf/bench_http.py)
Knobs: RELSIM_BENCH_CALLS (default 20000), RELSIM_BENCH_CONCURRENCY (default 64).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.events import EventBase
from engine.llm.caller import call_structured, json_schema_of
from engine.llm.openai_provider import OpenAIProvider, strict_schema
from engine.llm.scope import CallScope, call_scope
from engine.llm.settings import HttpClientName, parse_model
from engine.sim import prompts
from engine.sim.personas import find_persona
from engine.sim.schemas import CommitmentScore
from engine.sim.turning_points import build_plan
from tests.servers import SimServerProcess

TARGET = 2500.0
TARGET_RATIO = 3.0
CALLS = int(os.environ.get("RELSIM_BENCH_CALLS", "20000"))
CONCURRENCY = int(os.environ.get("RELSIM_BENCH_CONCURRENCY", "64"))


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def _workload() -> tuple[list[tuple[dict[str, Any], list[dict[str, str]]]], str]:
    a, b = find_persona("aiko-tanaka"), find_persona("kwame-asante")
    tp = build_plan(10, 0)[3]
    base = {
        "self": a.profile(), "partner": b.name, "partner_profile": b.profile(),
        "turning_point": {"id": tp.id, "category": tp.category, "title": tp.title,
                          "scenario": tp.scenario_for(a.name, b.name)},
        "summary": "They talked it through.", "emotions": None,
    }
    items = []
    for i in range(200):  # distinct prompts, reused round-robin
        context = {**base, "scene_index": i % 10, "previous_scores": [i % 11]}
        items.append((context, prompts.render("commitment", context, self=a.name, partner=b.name)))
    return items, a.name


async def relsim_rate(base_url: str, calls: int, concurrency: int,
                      http_client: HttpClientName = "pyreqwest") -> tuple[float, int]:
    settings = parse_model("openai-compatible/sim", base_url=base_url, http_client=http_client,
                           env={})
    provider = OpenAIProvider(settings)
    items, agent = _workload()
    events: list[EventBase] = []

    async def worker(w: int, n: int) -> None:
        for i in range(n):
            context, messages = items[(w * n + i) % len(items)]
            await call_structured(provider, messages, CommitmentScore, purpose="commitment",
                                  agent=agent, context=context)

    with call_scope(CallScope(events.append, "bench", 0)):
        await asyncio.gather(*(worker(w, 20) for w in range(concurrency)))  # warm-up
        events.clear()
        per = calls // concurrency
        start = time.perf_counter()
        await asyncio.gather(*(worker(w, per) for w in range(concurrency)))
        elapsed = time.perf_counter() - start
    await provider.aclose()
    completed = sum(1 for e in events if e.type == "call_completed")
    assert completed == per * concurrency, completed  # every call accounted for: events were on
    return per * concurrency / elapsed, len(events)


async def baseline_rate(base_url: str, calls: int, concurrency: int) -> float:
    """What a hand-written script would do: AsyncOpenAI + gather + a Semaphore."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=3)
    items, _ = _workload()
    schema, strict = strict_schema(json_schema_of(CommitmentScore))
    fmt = {"type": "json_schema", "json_schema": {"name": "commitment", "schema": schema,
                                                  "strict": strict}}
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> CommitmentScore:
        _, messages = items[i % len(items)]
        async with sem:
            response = await client.chat.completions.create(
                model="sim", messages=messages, response_format=fmt, seed=0,  # type: ignore[arg-type]
            )
        return CommitmentScore.model_validate_json(response.choices[0].message.content or "")

    await asyncio.gather(*(one(i) for i in range(concurrency * 5)))  # warm-up
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    elapsed = time.perf_counter() - start
    await client.close()
    return calls / elapsed


def run_benchmark(calls: int = CALLS, concurrency: int = CONCURRENCY) -> dict[str, float]:
    """calls/s for relsim-pyreqwest, relsim-httpx and the baseline, on one server."""
    # httpx and the baseline are several times slower per call: a quarter of the calls is plenty.
    fewer = max(2000, calls // 4)
    rates: dict[str, float] = {}
    with SimServerProcess(cpu=1) as server:
        _pin(0)
        try:
            server.reset_stats()
            rates["relsim-pyreqwest"], _ = asyncio.run(
                relsim_rate(server.base_url, calls, concurrency, "pyreqwest"))
            served = server.stats().get("completed", 0)
            print(f"\nserver answered {served:,} chat completions during the pyreqwest run")
            rates["relsim-httpx"], _ = asyncio.run(
                relsim_rate(server.base_url, fewer, concurrency, "httpx"))
            rates["baseline"] = asyncio.run(baseline_rate(server.base_url, fewer, concurrency))
        finally:
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return rates


def test_http_calls_per_second() -> None:
    rates = run_benchmark()
    rate, base = rates["relsim-pyreqwest"], rates["baseline"]
    ratio = rate / base
    print("\nstructured calls/s over HTTP (relsim: caller+admission+transport, events on), "
          f"concurrency {CONCURRENCY}:")
    print(f"  relsim-pyreqwest: {rate:8,.0f}  (target {TARGET:,.0f}; "
          f"{ratio:.2f}x the baseline, target {TARGET_RATIO:.1f}x)")
    print(f"  relsim-httpx:     {rates['relsim-httpx']:8,.0f}  "
          f"({rates['relsim-httpx'] / base:.2f}x the baseline)")
    print(f"  baseline AsyncOpenAI + gather + Semaphore: {base:,.0f}")
    assert rate >= TARGET
    assert ratio >= TARGET_RATIO


if __name__ == "__main__":
    test_http_calls_per_second()
