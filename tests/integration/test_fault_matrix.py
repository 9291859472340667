"""Simulations against `relsim serve` with injected faults, one class at a time and mixed.

The server counts what it injected; the client's RetryWarning events must match it one for one:
transport retries (rate_limit/transient) for HTTP faults, caller re-asks for content faults.
The HTTP faults run once per HTTP client library; content faults do not depend on it.
"""

from __future__ import annotations

import pytest

from engine.errors import StructuredOutputError
from engine.llm.settings import HTTP_CLIENTS, HttpClientName
from tests.integration.helpers import TRANSPORT_CLASSES, provider_for, retry_counts, run_batch

SEEDS = [1, 2, 3]

MATRIX = {
    "rate_limit": ["--rate-limit", "0.2", "--retry-after", "0.005"],
    "server_error": ["--server-error", "0.2"],
    "hang": ["--hang", "0.06", "--hang-seconds", "5"],
    "reset": ["--reset", "0.2"],
    "malformed": ["--malformed", "0.15"],
    "truncated": ["--truncated", "0.15"],
    "latency": ["--latency", "0.002", "--jitter", "0.01", "--latency-dist", "exponential"],
    "mixed": ["--rate-limit", "0.08", "--retry-after", "0.005", "--server-error", "0.08",
              "--hang", "0.03", "--hang-seconds", "5", "--reset", "0.08", "--malformed", "0.05",
              "--truncated", "0.05", "--latency", "0.001", "--jitter", "0.004"],
}


# The faults the HTTP client meets itself (status codes, hangs, resets), alone and mixed.
HTTP_FAULTS = ("rate_limit", "server_error", "hang", "reset", "mixed")
CASES = [
    pytest.param(fault, library, id=f"{fault}-{library}")
    for fault in MATRIX
    for library in (HTTP_CLIENTS if fault in HTTP_FAULTS else HTTP_CLIENTS[:1])
]


@pytest.mark.parametrize(("fault", "http_client"), CASES)
async def test_fault_matrix(sim_server, fault: str, http_client: HttpClientName) -> None:
    server = sim_server([*MATRIX[fault], "--fault-seed", "7"])
    provider = provider_for(server.base_url, http_client=http_client)
    try:
        events, results = await run_batch(provider, SEEDS)
    finally:
        await provider.aclose()
    stats = server.stats()
    counts = retry_counts(events)

    # Simulations complete, or fail with the stated reason (a critical call unusable 3 times;
    # every call of a simulation is structured).
    for result in results:
        if isinstance(result, BaseException):
            assert isinstance(result, StructuredOutputError), repr(result)
    failed = [e for e in events if e.type == "simulation_failed"]
    assert len(failed) == sum(isinstance(r, BaseException) for r in results)
    assert any(not isinstance(r, BaseException) for r in results)

    http_faults = sum(stats.get(k, 0) for k in ("rate_limit", "server_error", "hang", "reset"))
    assert sum(counts[c] for c in TRANSPORT_CLASSES) == http_faults, (counts, stats)
    assert counts["rate_limit"] == stats.get("rate_limit", 0)
    assert counts["transient"] == sum(stats.get(k, 0) for k in ("server_error", "hang", "reset"))
    # Content faults are the caller's business: one re-ask (or final failure) per bad reply.
    assert counts["truncation"] == stats.get("truncated", 0)
    assert counts["parse"] + counts["validation"] == stats.get("malformed", 0)
    if fault not in ("latency", "mixed"):
        assert stats.get(fault, 0) > 0, f"no {fault} fault was injected: {stats}"
    # Every HTTP request the server saw is one the client sent: no hidden client-side retries.
    assert stats["requests"] == provider.pool.replicas[0].usage.requests


async def test_truncation_retry_asks_for_a_shorter_reply(sim_server) -> None:
    """A reply cut off at the token limit is a truncation (re-asked for a shorter reply within
    the same budget), not bad JSON."""
    from engine.llm.caller import call_structured
    from engine.sim.schemas import Transition

    server = sim_server(["--truncated", "0.3", "--fault-seed", "1"])
    provider = provider_for(server.base_url)
    events = []
    from engine.llm.scope import CallScope, call_scope

    with call_scope(CallScope(events.append, "t", 0)):
        for i in range(12):
            try:
                await call_structured(provider, [{"role": "user", "content": f"bridge {i}"}],
                                      Transition, purpose="transition", max_tokens=100)
            except StructuredOutputError as exc:  # truncated three times running: allowed
                assert "cut off at the token limit" in str(exc)
    await provider.aclose()
    truncations = [e for e in events if e.type == "retry_warning"]
    assert truncations and all(e.error_class == "truncation" for e in truncations)
    assert len(truncations) == server.stats()["truncated"]
