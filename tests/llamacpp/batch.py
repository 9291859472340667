"""Run a batch on a real llama.cpp server and measure it: calls, re-asks, fallbacks, cached
prompt share, timeouts and (polling ``GET /slots``) how busy the server's slots were."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from engine.batch.runner import BatchRunner
from engine.batch.spec import BatchSpec
from engine.events import CallCompleted, CallFailed, EmbeddingsFallback, EventBase, RetryWarning
from engine.llm.http import Timeouts
from engine.llm.http.pyreqwest_client import PyreqwestClient

SLOT_POLL_S = 0.25
# Small context and budgets from the defaults table: the 135M model on one CPU thread
# processes ~60-100 prompt tokens/s.
CONTEXT_TURNS = 2


@dataclass(slots=True)
class BatchMeasure:
    states: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0
    calls: int = 0
    attempts: int = 0
    fallbacks: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    timeouts: int = 0
    embeddings_fallback: int = 0
    busy_share: float = 0.0  # of slot polls: share with every slot busy
    mean_busy: float = 0.0  # mean busy slots / total
    retry_classes: dict[str, int] = field(default_factory=dict)

    @property
    def reask_share(self) -> float:
        return (self.attempts - self.calls) / self.calls if self.calls else 0.0

    @property
    def cached_share(self) -> float:
        return self.cached_prompt_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    def lines(self) -> list[str]:
        return [
            f"simulations   {self.states}",
            f"wall time     {self.wall_s:.1f} s",
            f"calls         {self.calls} ({self.attempts} attempts, re-ask share "
            f"{self.reask_share:.1%})",
            f"fallbacks     {self.fallbacks}",
            f"cached prompt {self.cached_share:.1%} of {self.prompt_tokens} prompt tokens",
            f"slots         all busy {self.busy_share:.1%} of the time, mean busy "
            f"{self.mean_busy:.1%}",
            f"timeouts      {self.timeouts}",
            f"embeddings    {'local (fallback)' if self.embeddings_fallback else 'endpoint'}",
            f"retries       {self.retry_classes}",
        ]


async def _poll_slots(root: str, samples: list[tuple[int, int]], stop: asyncio.Event) -> None:
    http = PyreqwestClient(2, Timeouts(2.0, 5.0, 5.0))
    try:
        while not stop.is_set():
            try:
                reply = await http.get(root + "/slots", {})
                slots: list[dict[str, Any]] = orjson.loads(reply.body)
                samples.append((sum(bool(s.get("is_processing")) for s in slots), len(slots)))
            except Exception:  # a poll that fails says nothing about the slots
                pass
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SLOT_POLL_S)
    finally:
        await http.aclose()


# Two short personas (no synopsis, no identity memories): prompts a 135M model on a 2-core CPU
# reads in seconds. The shipped personas' intake text makes each prompt several times longer.
SHORT_PERSONAS = {
    "mira-costa": 'name = "Mira Costa"\nattachment_style = "anxious"\nsummary = "Mira is a warm, '
                  'talkative nurse who says what she feels and hates leaving an argument '
                  'unfinished."\n',
    "theo-lind": 'name = "Theo Lind"\nattachment_style = "avoidant"\nsummary = "Theo is a quiet '
                 'carpenter who needs time alone to think and goes silent when pressed."\n',
}


def short_personas(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for pid, text in SHORT_PERSONAS.items():
        path = folder / f"{pid}.toml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


async def run_batch(root: str, out: Path, *, scenes: int, beats: int, concurrency: int,
                    both_orders: bool = False, replicates: int = 1) -> BatchMeasure:
    """The pair's simulations (in both orders, ``replicates`` times) on the server at ``root``."""
    spec = BatchSpec(
        name="llamacpp", personas=short_personas(out.parent / "personas"),
        pairing="both_orders" if both_orders else "all_pairs",
        replicates=replicates, scenes=scenes, beats=beats,
        context_turns=CONTEXT_TURNS, model="llamacpp/smollm2", base_url=root + "/v1",
        concurrency=concurrency, out=str(out),
    )
    measure = BatchMeasure()
    events: list[EventBase] = []
    samples: list[tuple[int, int]] = []
    stop = asyncio.Event()
    started = time.monotonic()
    async with BatchRunner(spec) as runner:
        runner.bus.subscribe_inline(events.append)
        poller = asyncio.create_task(_poll_slots(root, samples, stop))
        try:
            await runner.run()
        finally:
            stop.set()
            await poller
        measure.states = {sid: row.state for sid, row in runner.state.rows.items()}
    measure.wall_s = time.monotonic() - started
    classes: dict[str, int] = {}
    for event in events:
        if isinstance(event, CallCompleted):
            measure.calls += 1
            measure.attempts += event.attempts
            measure.prompt_tokens += event.prompt_tokens
            measure.cached_prompt_tokens += event.cached_prompt_tokens
        elif isinstance(event, CallFailed):
            measure.fallbacks += event.fallback
        elif isinstance(event, RetryWarning):
            classes[event.error_class] = classes.get(event.error_class, 0) + 1
            measure.timeouts += "timed out" in event.reason
        elif isinstance(event, EmbeddingsFallback):
            measure.embeddings_fallback += 1
    measure.retry_classes = classes
    if samples:
        measure.busy_share = sum(busy == total for busy, total in samples) / len(samples)
        measure.mean_busy = sum(busy / total for busy, total in samples) / len(samples)
    return measure
