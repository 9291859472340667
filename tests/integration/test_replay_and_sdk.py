"""Replay cache over HTTP, and `relsim serve` as a base URL for the official openai SDK."""

from __future__ import annotations

import orjson
import pytest

from engine.errors import CacheMissError
from engine.llm.cache import CachedProvider, ReplayCache
from engine.llm.caller import json_schema_of
from engine.llm.openai_provider import strict_schema
from engine.sim.schemas import CommitmentScore
from tests.integration.helpers import provider_for, run_batch, transcript


async def test_replay_only_rerun_is_identical_with_zero_requests(sim_server, tmp_path) -> None:
    # Malformed replies are cached (the re-ask is replayed too); truncations never are, so a
    # run that met one cannot be replayed offline in full (see the cache docstring).
    server = sim_server(["--malformed", "0.05"])
    seeds = [11, 12]

    def cached(mode: str) -> CachedProvider:
        inner = provider_for(server.base_url)
        return CachedProvider(inner, ReplayCache(tmp_path, mode), server.base_url)

    recorder = cached("read-write")
    first, results = await run_batch(recorder, seeds, scenes=2)
    await recorder.aclose()
    assert not [r for r in results if isinstance(r, BaseException)]
    assert server.stats()["requests"] > 0
    server.reset_stats()

    replayer = cached("replay-only")
    second, results = await run_batch(replayer, seeds, scenes=2)
    await replayer.aclose()
    assert not [r for r in results if isinstance(r, BaseException)]
    assert server.stats().get("requests", 0) == 0
    for seed in seeds:  # per simulation: the two ran concurrently, so they interleave freely

        def of(events, sim_id=f"sim{seed}"):
            return orjson.dumps(transcript([e for e in events if e.sim_id == sim_id]))

        assert of(first) == of(second)
    assert replayer.cache.misses == 0 and replayer.cache.hits > 0

    with pytest.raises(CacheMissError):
        await run_batch_strict(replayer, [99])


async def run_batch_strict(provider, seeds) -> None:
    _, results = await run_batch(provider, seeds)
    for r in results:
        if isinstance(r, BaseException):
            raise r


async def test_openai_sdk_uses_relsim_serve(sim_server) -> None:
    from openai import AsyncOpenAI

    server = sim_server()
    client = AsyncOpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
    schema, strict = strict_schema(json_schema_of(CommitmentScore))
    try:
        reply = await client.chat.completions.create(
            model="sim",
            seed=4,
            messages=[{"role": "user", "content": "How committed are you?"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "commitment", "schema": schema, "strict": strict},
            },
        )
        score = CommitmentScore.model_validate_json(reply.choices[0].message.content or "")
        assert 0 <= score.commitment <= 10
        assert reply.usage is not None and reply.usage.total_tokens > 0
        text = await client.chat.completions.create(
            model="sim", messages=[{"role": "user", "content": "hi"}]
        )
        assert text.choices[0].message.content
        emb = await client.embeddings.create(model="sim", input=["a", "b c"])
        assert len(emb.data) == 2 and len(emb.data[0].embedding) > 0
        models = await client.models.list()
        assert [m.id for m in models.data] == ["sim"]
    finally:
        await client.close()
