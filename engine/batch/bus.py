"""The event bus: fans every event out to the run log, the coalesced state and subscribers.

Three kinds of receivers, by how much they may cost the engine:

* the run log writer: lossless; its queue is bounded by backpressure (producers await
  ``RunLogWriter.room()``), never by dropping;
* *inline* folds (``BatchState.apply``): called synchronously per event, must cost microseconds;
* *buffered* subscribers (displays, the dashboard, tests): events go into a bounded per-subscriber
  queue drained by a dispatcher task in time-limited slices. A subscriber that cannot keep up
  loses the oldest events (counted in ``dropped``) instead of slowing the engine: displays read
  the coalesced state for anything that must be exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from engine.eventbase import EventBase

log = logging.getLogger("relsim.batch")

Callback = Callable[[EventBase], None]
LogSink = Callable[[EventBase, int], None]

DEFAULT_QUEUE = 50_000
SLICE_S = 0.005  # the dispatcher yields to the loop after this much subscriber time


class _Subscriber:
    __slots__ = ("callback", "dropped", "queue")

    def __init__(self, callback: Callback, maxlen: int) -> None:
        self.callback = callback
        self.queue: deque[EventBase] = deque(maxlen=maxlen)
        self.dropped = 0


class EventBus:
    def __init__(self, log_sink: LogSink | None = None) -> None:
        self._log_sink = log_sink
        self._inline: list[Callback] = []
        self._buffered: list[_Subscriber] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    # -- subscribing ---------------------------------------------------------------------------

    def subscribe_inline(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback`` synchronously for every event. Only for cheap folds."""
        self._inline.append(callback)
        return lambda: self._inline.remove(callback) if callback in self._inline else None

    def subscribe(self, callback: Callback, *, maxlen: int = DEFAULT_QUEUE) -> Callable[[], None]:
        """Deliver events to ``callback`` from the dispatcher task; returns an unsubscribe."""
        sub = _Subscriber(callback, maxlen)
        self._buffered.append(sub)

        def unsubscribe() -> None:
            if sub in self._buffered:
                self._buffered.remove(sub)

        return unsubscribe

    def dropped(self) -> int:
        return sum(s.dropped for s in self._buffered)

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, event: EventBase, attempt: int = 1) -> None:
        self.published += 1
        if self._log_sink is not None:
            self._log_sink(event, attempt)
        for fold in self._inline:
            fold(event)
        if self._buffered:
            for sub in self._buffered:
                if len(sub.queue) == sub.queue.maxlen:
                    sub.dropped += 1
                sub.queue.append(event)
            if self._wake is not None:
                self._wake.set()

    # -- dispatcher ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._dispatch(), name="relsim-bus")

    async def _dispatch(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._deliver_slice():
                await asyncio.sleep(0)

    def _deliver_slice(self) -> bool:
        """Deliver for at most SLICE_S; True if events remain."""
        deadline = time.perf_counter() + SLICE_S
        more = False
        for sub in list(self._buffered):
            queue = sub.queue
            while queue:
                event = queue.popleft()
                try:
                    sub.callback(event)
                except Exception:  # a broken display must not take the engine down
                    log.exception("event subscriber failed")
                if time.perf_counter() > deadline:
                    break
            more = more or bool(queue)
        return more

    def drain_now(self) -> None:
        """Deliver everything queued (used at shutdown so subscribers see the last events)."""
        for sub in list(self._buffered):
            while sub.queue:
                event = sub.queue.popleft()
                try:
                    sub.callback(event)
                except Exception:
                    log.exception("event subscriber failed")

    async def aclose(self) -> None:
        self.drain_now()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
