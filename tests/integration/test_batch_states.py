"""Only the batch runner decides a simulation's state: a rerun that waits on a down endpoint
keeps its attempt number, in the live state and in every state event it emits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.batch.reader import RunReader
from engine.batch.runner import BatchRunner
from engine.batch.spec import BatchSpec
from engine.events import EventBase, SimStateChanged
from engine.llm.settings import RetryPolicy
from tests.integration.helpers import provider_for, retry_counts
from tests.servers import SimServerProcess, free_port


async def test_a_rerun_waiting_on_the_endpoint_stays_on_its_attempt(tmp_path: Path) -> None:
    port = free_port()
    server = SimServerProcess(port=port)
    await asyncio.to_thread(server.start)
    provider = provider_for(
        server.base_url, retry=RetryPolicy(max_retries=6, base_s=0.002, cap_s=0.01, timeout_s=2.0)
    )
    spec = BatchSpec(name="t", personas=["aiko-tanaka", "kwame-asante"], scenes=1, beats=1,
                     seed=5, model="openai-compatible/sim", base_url=server.base_url,
                     out=str(tmp_path / "logs"))
    try:
        async with BatchRunner(spec, provider=provider) as runner:
            await runner.run()  # attempt 1, with the endpoint up
            assert runner.state.rows["s0001"].state == "completed"
            await asyncio.to_thread(server.stop)

            rerun_events: list[EventBase] = []
            seen_attempts: list[int] = []
            down_long_enough = asyncio.Event()

            def watch(event: EventBase) -> None:
                rerun_events.append(event)
                seen_attempts.append(runner.state.rows["s0001"].attempt)
                waited = any(isinstance(e, SimStateChanged) and e.state == "waiting"
                             for e in rerun_events)
                # Waiting, and a probe after the breaker opened failed too: calls have parked.
                if waited and retry_counts(rerun_events)["transient"] > 6:
                    down_long_enough.set()

            runner.bus.subscribe_inline(watch)
            assert runner.rerun("s0001")
            running = asyncio.create_task(runner.run())
            await asyncio.wait_for(down_long_enough.wait(), 20)
            await asyncio.to_thread(server.start)
            await asyncio.wait_for(running, 30)

        row = runner.state.rows["s0001"]
        assert (row.state, row.attempt) == ("completed", 2)
        assert set(seen_attempts) == {2}
        states = [e for e in rerun_events if isinstance(e, SimStateChanged)]
        assert "waiting" in [e.state for e in states]
        assert {e.attempt for e in states} == {2}
        # The log agrees: attempt numbers never go backwards.
        logged = [e.attempt for e in RunReader(runner.run_dir).events("s0001")
                  if isinstance(e, SimStateChanged)]
        assert logged == sorted(logged) and logged[-1] == 2
    finally:
        server.stop()
        await provider.aclose()
