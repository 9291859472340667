"""The dashboard's UI-first ready queue (tui.scheduling) on a real asyncio loop."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import deque

from tui import scheduling


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _order_of_ui_callback(install: bool) -> tuple[int, int]:
    """Queue 100 batch callbacks (~1 ms each); the first schedules a UI callback. Returns how
    many batch callbacks ran before the UI one, and how many ran in all."""
    loop = asyncio.new_event_loop()
    try:
        if install:
            assert scheduling.install(loop)
        ran: list[str] = []

        def batch_step(index: int) -> None:
            _busy(0.001)
            ran.append(f"batch{index}")
            if index == 0:
                loop.call_soon(ran.append, "ui", context=contextvars.Context())

        for index in range(100):
            loop.call_soon(batch_step, index, context=scheduling.batch_context())
        done = loop.create_future()
        loop.call_later(0.5, done.set_result, None)
        loop.run_until_complete(done)
        return ran.index("ui"), sum(1 for name in ran if name.startswith("batch"))
    finally:
        if install:
            scheduling.uninstall(loop)
        loop.close()


def test_plain_loop_runs_the_ui_callback_after_all_queued_batch_work() -> None:
    before_ui, total = _order_of_ui_callback(install=False)
    assert total == 100
    assert before_ui == 100


def test_ui_first_queue_runs_the_ui_callback_within_one_slice() -> None:
    before_ui, total = _order_of_ui_callback(install=True)
    assert total == 100  # batch work is delayed, never dropped
    # One 10 ms slice of ~1 ms callbacks, at most; far fewer than the 100 queued.
    assert before_ui <= 30


def test_batch_context_marks_tasks_and_what_they_schedule() -> None:
    async def inner() -> bool:
        return scheduling.BATCH.get()

    async def outer() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        marked = await loop.create_task(inner(), context=scheduling.batch_context())
        return marked, scheduling.BATCH.get()

    marked, outside = asyncio.run(outer())
    assert marked is True
    assert outside is False


def test_uninstall_keeps_queued_handles_ui_first() -> None:
    loop = asyncio.new_event_loop()
    try:
        assert scheduling.install(loop)
        assert scheduling.install(loop)  # idempotent
        order: list[str] = []
        loop.call_soon(order.append, "batch", context=scheduling.batch_context())
        loop.call_soon(order.append, "ui")
        scheduling.uninstall(loop)
        assert isinstance(loop._ready, deque)  # type: ignore[attr-defined]
        loop.call_soon(loop.stop)
        loop.run_forever()
        assert order == ["ui", "batch"]
    finally:
        loop.close()


def test_install_leaves_a_loop_without_a_ready_deque_alone() -> None:
    class OtherLoop:
        def __init__(self) -> None:
            self._ready: list[object] = []

    other = OtherLoop()
    assert scheduling.install(other) is False  # type: ignore[arg-type]
    assert isinstance(other._ready, list)
