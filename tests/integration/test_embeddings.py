"""Embeddings over real loopback HTTP: concurrent requests share one exchange, and every caller
gets exactly the vectors it asked for."""

from __future__ import annotations

import asyncio

from engine.llm.embedding import hash_embed
from tests.integration.helpers import provider_for


async def test_concurrent_embeddings_travel_as_one_request(sim_server) -> None:
    server = sim_server()
    provider = provider_for(server.base_url)
    asks = [[f"recall query {i}", *(f"memory {i}.{j}" for j in range(i % 4))] for i in range(30)]
    got = await asyncio.gather(*(provider.embed(texts) for texts in asks))
    later = await provider.embed(["one more"])
    await provider.aclose()
    assert server.stats()["embeddings"] == 2
    assert got == [[hash_embed(t) for t in texts] for texts in asks]
    assert later == [hash_embed("one more")]
