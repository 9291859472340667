"""Transport and admission over real loopback HTTP: retry-after, fatal errors, pacing, breaker.

Each test runs once per HTTP client library (the ``http_client`` fixture), except the slow
pacing test: pacing is admission's work, and both clients' headers are read by the retry-after
test."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from engine.errors import EndpointFatalError
from engine.events import EventBase
from engine.llm.caller import call_structured
from engine.llm.scope import CallScope, call_scope
from engine.llm.settings import HttpClientName, Limits, RetryPolicy
from engine.sim.schemas import CommitmentScore
from tests.integration.helpers import provider_for, retry_counts, run_batch
from tests.servers import SimServerProcess, free_port

SECRET = "sk-test-THIS-MUST-NEVER-LEAK-123456"


async def _calls(provider, n: int, events: list[EventBase], prefix: str = "c") -> None:
    with call_scope(CallScope(events.append, "t", 0)):
        for i in range(n):
            await call_structured(
                provider,
                [{"role": "user", "content": f"{prefix} {i}"}],
                CommitmentScore,
                purpose="commitment",
            )


async def test_retry_after_is_obeyed(sim_server, http_client: HttpClientName) -> None:
    hint = 0.15
    server = sim_server(["--rate-limit", "0.4", "--retry-after", str(hint), "--fault-seed", "3"])
    provider = provider_for(server.base_url, http_client=http_client)
    events: list[EventBase] = []
    sent: list[float] = []

    original = provider.pool.send

    async def timed_send(*args, **kwargs):  # when each HTTP request leaves the client
        sent.append(time.monotonic())
        return await original(*args, **kwargs)

    provider.pool.send = timed_send  # type: ignore[method-assign]
    start = time.monotonic()
    await _calls(provider, 8, events)
    elapsed = time.monotonic() - start
    await provider.aclose()
    retries = [e for e in events if e.type == "retry_warning"]
    limited = server.stats()["rate_limit"]
    assert len(retries) == limited > 0
    assert all(e.error_class == "rate_limit" and e.status == 429 for e in retries)
    assert all(e.wait_s is not None and e.wait_s >= hint for e in retries)
    # Measured: the request after each 429 left at least `hint` later, and in total we waited.
    gaps = sorted(b - a for a, b in itertools.pairwise(sent))
    assert all(g >= hint * 0.98 for g in gaps[-limited:])
    assert elapsed >= limited * hint


async def test_401_stops_the_batch_after_one_request(
    sim_server, caplog, http_client: HttpClientName
) -> None:
    caplog.set_level(logging.DEBUG)
    server = sim_server(
        ["--require-key-env", "RELSIM_TEST_SERVER_KEY"],
        env={"RELSIM_TEST_SERVER_KEY": "the-right-key"},
    )
    provider = provider_for(server.base_url, api_key=SECRET, http_client=http_client)
    events, results = await run_batch(provider, [1, 2, 3, 4, 5, 6])
    await provider.aclose()
    stats = server.stats()
    assert stats["requests"] == 1 and stats["unauthorized"] == 1, stats
    assert all(isinstance(r, EndpointFatalError) for r in results), results
    message = str(results[0])
    assert "401" in message and "API key" in message and message.count(".") <= 3
    # The key is nowhere: exception text and repr, events, logs, settings and provider repr.
    texts = [
        message,
        repr(results[0]),
        repr(provider),
        repr(provider.settings),
        str(provider.settings),
        caplog.text,
    ]
    texts += [e.model_dump_json() for e in events]
    assert not [t for t in texts if SECRET in t]
    assert "***" in repr(provider.settings)


async def test_a_new_endpoint_is_probed_with_models_not_a_slow_completion(
    sim_server, http_client: HttpClientName
) -> None:
    latency = 0.5
    server = sim_server(["--latency", str(latency)])
    provider = provider_for(server.base_url, retry=RetryPolicy(timeout_s=10 * latency),
                            http_client=http_client)
    start = time.monotonic()
    await asyncio.gather(*(_calls(provider, 1, [], prefix=f"p{i}") for i in range(8)))
    elapsed = time.monotonic() - start
    await provider.aclose()
    # Every call waits for the probe: had the first completion been it, this took 2 latencies.
    assert elapsed < 1.6 * latency, elapsed
    stats = server.stats()
    assert stats["requests"] == 9 and stats["completed"] == 8, stats
    assert provider.pool.replicas[0].usage.requests == 9


async def test_unknown_model_is_fatal(sim_server, http_client: HttpClientName) -> None:
    server = sim_server(["--model", "served-model"])
    provider = provider_for(server.base_url, http_client=http_client)
    with pytest.raises(EndpointFatalError, match="does not serve model 'sim'"):
        await _calls(provider, 1, [])
    await provider.aclose()


async def test_rpm_limit_settles_without_a_retry_storm(sim_server) -> None:
    rpm = 1200  # 20/s
    server = sim_server(["--rpm", str(rpm)])
    provider = provider_for(server.base_url, limits=Limits(max_in_flight=16, max=64))
    events: list[EventBase] = []
    stop = asyncio.Event()

    async def caller(c: int) -> None:
        i = 0
        with call_scope(CallScope(events.append, f"c{c}", 0)):
            while not stop.is_set():
                i += 1
                await call_structured(
                    provider,
                    [{"role": "user", "content": f"{c}/{i}"}],
                    CommitmentScore,
                    purpose="commitment",
                )

    tasks = [asyncio.create_task(caller(c)) for c in range(24)]
    await asyncio.sleep(3.0)
    stop.set()
    await asyncio.gather(*tasks)
    await provider.aclose()
    stats = server.stats()
    limited = stats.get("rpm_limited", 0)
    assert retry_counts(events)["rate_limit"] == limited
    assert limited <= 0.02 * stats["requests"] + 1, stats
    # 1 s of burst + 3 s at 20/s, paced at 97 %: most of the budget is used, none wasted on 429s.
    assert stats["completed"] >= 0.8 * (rpm / 60) * 3.0, stats
    statuses = [e for e in events if e.type == "endpoint_status"]
    assert any("pacing at" in (e.reason or "") for e in statuses)


async def test_unreachable_endpoint_fails_at_once_with_one_clear_error(
    http_client: HttpClientName,
) -> None:
    port = free_port()  # nothing listens here: connection refused
    provider = provider_for(f"http://127.0.0.1:{port}/v1", http_client=http_client)
    try:
        with pytest.raises(EndpointFatalError, match=f"cannot reach http://127.0.0.1:{port}/v1"):
            await asyncio.wait_for(
                call_structured(
                    provider,
                    [{"role": "user", "content": "hello"}],
                    CommitmentScore,
                    purpose="commitment",
                ),
                10,
            )
    finally:
        await provider.aclose()


async def test_breaker_parks_calls_until_the_endpoint_is_back(
    http_client: HttpClientName,
) -> None:
    port = free_port()
    provider = provider_for(
        f"http://127.0.0.1:{port}/v1",
        retry=RetryPolicy(max_retries=6, base_s=0.002, cap_s=0.01, timeout_s=2.0),
        http_client=http_client,
    )
    # The endpoint answers once (so it is known to exist), then goes down.
    first = SimServerProcess(port=port)
    await asyncio.to_thread(first.start)
    try:
        await call_structured(
            provider, [{"role": "user", "content": "hello"}], CommitmentScore, purpose="commitment"
        )
    finally:
        first.stop()
    events: list[EventBase] = []
    waiting = asyncio.Event()

    def sink(event: EventBase) -> None:
        events.append(event)
        # Down long enough: parked, and a probe after the breaker opened has failed too.
        if any(e.type == "call_parked" for e in events) and retry_counts(events)["transient"] > 6:
            waiting.set()

    async def one_call() -> None:
        with call_scope(CallScope(sink, "parked", 0)):
            await call_structured(
                provider,
                [{"role": "user", "content": "hello"}],
                CommitmentScore,
                purpose="commitment",
            )

    calls = [asyncio.create_task(one_call()) for _ in range(3)]
    await asyncio.wait_for(waiting.wait(), 10)
    server = SimServerProcess(port=port)
    try:
        await asyncio.to_thread(server.start)
        await asyncio.wait_for(asyncio.gather(*calls), 30)
        assert server.stats()["completed"] == 3
    finally:
        server.stop()
        await provider.aclose()
    # The model layer reports parked calls; it never sets a simulation's state itself.
    assert not [e for e in events if e.type == "sim_state"]
    parked = [e.parked for e in events if e.type == "call_parked"]  # type: ignore[attr-defined]
    assert True in parked and parked[-1] is False
    breaker = [e.breaker for e in events if e.type == "endpoint_status"]  # type: ignore[attr-defined]
    assert "open" in breaker and breaker[-1] == "closed"
    # More failures than the retry budget happened, but parked calls did not spend it.
    transient = retry_counts(events)["transient"]
    assert transient > 6
    assert not [e for e in events if e.type == "retry_warning" and not e.will_retry]  # type: ignore[attr-defined]


async def test_replicas_share_the_load(sim_server, http_client: HttpClientName) -> None:
    one, two = sim_server(), sim_server()
    provider = provider_for(f"{one.base_url},{two.base_url}", http_client=http_client)
    events: list[EventBase] = []
    await asyncio.gather(*(_calls(provider, 10, events, prefix=f"w{w}") for w in range(8)))
    await provider.aclose()
    a, b = one.stats()["completed"], two.stats()["completed"]
    assert a + b == 80 and a >= 10 and b >= 10, (a, b)
