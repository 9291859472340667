"""A partner's appraisal that a cancelled beat never started is closed, not left to warn."""

from __future__ import annotations

import asyncio
import inspect

from engine.sim.simulation import close_unstarted


async def _appraise() -> str:
    await asyncio.sleep(0)
    return "appraised"


def test_an_unstarted_appraisal_is_closed() -> None:
    pending = _appraise()
    close_unstarted((1, "A", None, pending))
    # Closed: collecting it no longer warns "coroutine ... was never awaited".
    assert inspect.getcoroutinestate(pending) == inspect.CORO_CLOSED


def test_a_running_or_finished_appraisal_is_left_alone() -> None:
    async def scenario() -> None:
        pending = _appraise()
        task = asyncio.ensure_future(pending)
        await asyncio.sleep(0)  # started, suspended inside
        close_unstarted((1, "A", None, pending))
        assert inspect.getcoroutinestate(pending) == inspect.CORO_SUSPENDED
        assert await task == "appraised"
        close_unstarted((1, "A", None, pending))  # finished: nothing to do
        close_unstarted(None)

    asyncio.run(scenario())
