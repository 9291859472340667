"""The embedding coalescer: requests of one loop turn share one send, each caller gets its own
vectors, failures and events reach every caller."""

from __future__ import annotations

import asyncio

import pytest

from engine.errors import LLMError
from engine.events import EndpointStatus, EventBase, RetryWarning
from engine.llm import coalesce
from engine.llm.coalesce import EmbeddingCoalescer
from engine.llm.scope import CallScope, call_scope, current_scope


def vector(text: str) -> list[float]:
    return [float(len(text)), float(sum(map(ord, text)) % 97)]


class RecordingSend:
    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        return [vector(t) for t in texts]


async def test_one_turn_is_one_request_and_each_caller_gets_its_own_vectors() -> None:
    send = RecordingSend()
    coalescer = EmbeddingCoalescer(send)
    inputs = [[f"query {i}", *(f"memory {i}.{j}" for j in range(i % 3))] for i in range(40)]
    results = await asyncio.gather(*(coalescer.embed(texts) for texts in inputs))
    assert len(send.calls) == 1
    assert send.calls[0] == [t for texts in inputs for t in texts]
    assert results == [[vector(t) for t in texts] for texts in inputs]
    # A later call is a new request.
    assert await coalescer.embed(["later"]) == [vector("later")]
    assert send.calls[-1] == ["later"]


async def test_batches_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coalesce, "MAX_INPUTS", 5)
    send = RecordingSend()
    coalescer = EmbeddingCoalescer(send)
    results = await asyncio.gather(*(coalescer.embed([f"t{i}", f"u{i}"]) for i in range(6)))
    assert [len(c) for c in send.calls] == [4, 4, 4]
    assert results == [[vector(f"t{i}"), vector(f"u{i}")] for i in range(6)]


async def test_a_failure_reaches_every_caller_and_a_cancelled_caller_is_skipped() -> None:
    send = RecordingSend(fail=LLMError("endpoint said no"))
    coalescer = EmbeddingCoalescer(send)
    tasks = [asyncio.create_task(coalescer.embed([f"t{i}"])) for i in range(3)]
    await asyncio.sleep(0)
    tasks[1].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[0], LLMError) and isinstance(results[2], LLMError)
    assert isinstance(results[1], asyncio.CancelledError)
    assert len(send.calls) == 1


async def test_a_short_reply_is_an_error() -> None:
    async def short(texts: list[str]) -> list[list[float]]:
        return [[0.0]]

    coalescer = EmbeddingCoalescer(short)
    with pytest.raises(LLMError, match="1 embeddings for 2 inputs"):
        await asyncio.gather(coalescer.embed(["a"]), coalescer.embed(["b"]))


async def test_events_of_a_shared_request_reach_each_simulation_under_its_own_id() -> None:
    seen: dict[str, list[EventBase]] = {"s1": [], "s2": []}

    async def send(texts: list[str]) -> list[list[float]]:
        scope = current_scope()
        scope.emit(RetryWarning(sim_id=scope.sim_id, purpose="embedding", attempt=1,
                                max_attempts=7, error_class="transient", reason="HTTP 500",
                                will_retry=True))
        scope.emit(EndpointStatus(endpoint="http://127.0.0.1:1/v1", limit=8, in_flight=1))
        return [vector(t) for t in texts]

    coalescer = EmbeddingCoalescer(send)

    async def as_sim(sim_id: str) -> list[list[float]]:
        with call_scope(CallScope(seen[sim_id].append, sim_id)):
            return await coalescer.embed([sim_id])

    await asyncio.gather(as_sim("s1"), as_sim("s2"))
    retries = {sid: [e.sim_id for e in ev if isinstance(e, RetryWarning)]
               for sid, ev in seen.items()}
    assert retries == {"s1": ["s1"], "s2": ["s2"]}
    statuses = sum(isinstance(e, EndpointStatus) for ev in seen.values() for e in ev)
    assert statuses == 1
