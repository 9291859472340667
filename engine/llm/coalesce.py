"""Embedding requests made in the same event-loop turn travel as one HTTP request.

A batch of simulations in lockstep asks for thousands of small embeddings at the same moment
(each simulation's recall query, each agent's identity memories). Embedding endpoints take a
list of inputs, so the requests queued during one turn of the loop are sent together: one
request instead of hundreds, which spares both the endpoint's requests/min budget and the CPU
that every HTTP exchange costs on each side. Nothing waits for a batch to fill: the batch goes
out on the next turn of the loop, so a lone request is sent as soon as it would have been.

Retries and admission waits of a shared request are reported to every simulation in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from engine.errors import LLMError
from engine.eventbase import EventBase
from engine.llm.events import EmbeddingsFallback, EndpointStatus
from engine.llm.scope import CallScope, call_scope, current_scope

# OpenAI accepts up to 2,048 inputs per request; a few hundred keeps each reply small.
MAX_INPUTS = 256
MAX_CHARS = 200_000

Send = Callable[[list[str]], Awaitable[list[list[float]]]]


@dataclass(slots=True)
class _Waiter:
    future: asyncio.Future[list[list[float]]]
    start: int
    count: int
    scope: CallScope


@dataclass(slots=True)
class _Batch:
    texts: list[str] = field(default_factory=list)
    chars: int = 0
    waiters: list[_Waiter] = field(default_factory=list)

    def fits(self, texts: list[str], chars: int) -> bool:
        if not self.texts:
            return True
        return len(self.texts) + len(texts) <= MAX_INPUTS and self.chars + chars <= MAX_CHARS


class EmbeddingCoalescer:
    """Joins concurrent ``embed`` calls on one event loop into shared requests made by ``send``."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._open: dict[asyncio.AbstractEventLoop, _Batch] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def embed(self, texts: list[str]) -> list[list[float]]:
        loop = asyncio.get_running_loop()
        chars = sum(len(t) for t in texts)
        batch = self._open.get(loop)
        if batch is None or not batch.fits(texts, chars):
            batch = self._open[loop] = _Batch()
            loop.call_soon(self._flush, loop, batch)
        waiter = _Waiter(loop.create_future(), len(batch.texts), len(texts), current_scope())
        batch.texts.extend(texts)
        batch.chars += chars
        batch.waiters.append(waiter)
        return await waiter.future

    def _flush(self, loop: asyncio.AbstractEventLoop, batch: _Batch) -> None:
        if self._open.get(loop) is batch:
            del self._open[loop]
        task = loop.create_task(self._run(batch), name="relsim-embeddings")
        self._tasks.add(task)  # the loop keeps only a weak reference to tasks
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: _Batch) -> None:
        waiters = batch.waiters
        scope = waiters[0].scope if len(waiters) == 1 else _shared_scope(waiters)
        try:
            with call_scope(scope):
                vectors = await self._send(batch.texts)
            if len(vectors) != len(batch.texts):
                raise LLMError(
                    f"the endpoint returned {len(vectors)} embeddings for {len(batch.texts)} inputs"
                )
        except asyncio.CancelledError:
            for w in waiters:
                w.future.cancel()
            raise
        except Exception as exc:
            for w in waiters:
                if not w.future.done():
                    w.future.set_exception(exc)
            return
        for w in waiters:
            if not w.future.done():
                w.future.set_result(vectors[w.start : w.start + w.count])


def _shared_scope(waiters: list[_Waiter]) -> CallScope:
    """A scope whose events reach every simulation in the batch, each under its own id."""
    members: dict[tuple[int, str], CallScope] = {}
    for w in waiters:
        if w.scope.sink is not None:
            members.setdefault((id(w.scope.sink), w.scope.sim_id), w.scope)
    targets = list(members.values())

    def fan_out(event: EventBase) -> None:
        # About the endpoint, not a simulation: once.
        if isinstance(event, EndpointStatus | EmbeddingsFallback):
            if targets:
                targets[0].emit(event)
            return
        for member in targets:
            member.emit(event.model_copy(update={"sim_id": member.sim_id}))

    return CallScope(sink=fan_out if targets else None)
