"""Pacing under a server-side requests/min limit: `relsim serve --rpm 600`, many callers.

Targets (issue 3): achieved rate >= 95 % of the limit after warm-up, <= 2 % of requests 429.
Counts are the server's own (GET /stats), read after a warm-up and after the measured window.

Run: python -m pytest tests/perf/bench_rpm.py -s   (or: python tests/perf/bench_rpm.py)
Knobs: RELSIM_RPM_LIMIT (600), RELSIM_RPM_WARMUP_S (10), RELSIM_RPM_WINDOW_S (60),
RELSIM_RPM_CALLERS (32).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.llm.caller import call_structured
from engine.llm.openai_provider import OpenAIProvider
from engine.llm.scope import CallScope, call_scope
from engine.llm.settings import parse_model
from engine.sim.schemas import CommitmentScore
from tests.servers import SimServerProcess

LIMIT = float(os.environ.get("RELSIM_RPM_LIMIT", "600"))
WARMUP_S = float(os.environ.get("RELSIM_RPM_WARMUP_S", "10"))
WINDOW_S = float(os.environ.get("RELSIM_RPM_WINDOW_S", "60"))
CALLERS = int(os.environ.get("RELSIM_RPM_CALLERS", "32"))


async def drive(server: SimServerProcess) -> tuple[float, float, int]:
    settings = parse_model("openai-compatible/sim", base_url=server.base_url, env={})
    provider = OpenAIProvider(settings)
    stop = asyncio.Event()
    retries = 0

    def sink(event: object) -> None:
        nonlocal retries
        if getattr(event, "type", "") == "retry_warning":
            retries += 1

    async def caller(c: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            await call_structured(provider, [{"role": "user", "content": f"caller {c} call {i}"}],
                                  CommitmentScore, purpose="commitment")

    with call_scope(CallScope(sink, "rpm-bench", 0)):
        tasks = [asyncio.create_task(caller(c)) for c in range(CALLERS)]
        await asyncio.sleep(WARMUP_S)
        server.reset_stats()  # blocking for a few ms: fine, the callers are paced anyway
        retries = 0
        start = time.monotonic()
        await asyncio.sleep(WINDOW_S)
        stats = server.stats()
        elapsed = time.monotonic() - start
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await provider.aclose()
    achieved = stats.get("completed", 0) / elapsed * 60.0
    limited = stats.get("rpm_limited", 0) / max(1, stats.get("requests", 0))
    return achieved, limited, retries


def test_rpm_pacing() -> None:
    with SimServerProcess(["--rpm", str(LIMIT)]) as server:
        achieved, limited, retries = asyncio.run(drive(server))
    print(f"\nserver limit {LIMIT:.0f} requests/min, {CALLERS} callers, window {WINDOW_S:.0f}s "
          f"after {WARMUP_S:.0f}s warm-up")
    print(f"achieved {achieved:.1f} requests/min = {achieved / LIMIT:.1%} of the limit "
          f"(target >= 95%); 429s {limited:.2%} of requests (target <= 2%); "
          f"client retry events {retries}")
    assert achieved >= 0.95 * LIMIT
    assert limited <= 0.02


if __name__ == "__main__":
    test_rpm_pacing()
