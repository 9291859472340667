"""Choosing the HTTP client library: RELSIM_HTTP_CLIENT, the argument in code, a user's own
``httpx.AsyncClient`` (real requests to ``relsim serve``), and the sync wrappers' fresh event loop
per call."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from engine.errors import ConfigError
from engine.llm import model_call_structured, resolve_model
from engine.llm.caller import call_structured
from engine.llm.http import open_http_client
from engine.llm.http.httpx_client import HttpxClient
from engine.llm.http.pyreqwest_client import PyreqwestClient
from engine.llm.openai_provider import OpenAIProvider
from engine.llm.settings import EndpointSettings, HttpClientName, RetryPolicy, parse_model
from engine.llm.transport import TransportError
from engine.sim.schemas import CommitmentScore
from tests.integration.helpers import provider_for

URL = "http://127.0.0.1:9/v1"


def _settings(**kwargs: object) -> EndpointSettings:
    return parse_model("openai-compatible/sim", base_url=URL, **kwargs)  # type: ignore[arg-type]


def test_pyreqwest_is_the_default_and_the_environment_or_argument_choose() -> None:
    assert _settings(env={}).http_client == "pyreqwest"
    assert isinstance(open_http_client(_settings(env={})), PyreqwestClient)
    chosen = _settings(env={"RELSIM_HTTP_CLIENT": "httpx"})
    assert chosen.http_client == "httpx" and isinstance(open_http_client(chosen), HttpxClient)
    # The argument wins over the environment.
    assert _settings(http_client="pyreqwest", env={"RELSIM_HTTP_CLIENT": "httpx"}).http_client \
        == "pyreqwest"


def test_an_unknown_client_is_one_config_error_naming_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(env={"RELSIM_HTTP_CLIENT": "aiohttp"})
    assert str(caught.value) == "RELSIM_HTTP_CLIENT must be one of pyreqwest, httpx, got 'aiohttp'"
    with pytest.raises(ConfigError, match="http_client must be one of pyreqwest, httpx"):
        _settings(http_client="requests", env={})
    with pytest.raises(TypeError, match=r"or an httpx\.AsyncClient"):
        _settings(http_client=object(), env={})
    # Settings built directly are held to the same names.
    with pytest.raises(ConfigError, match="http_client must be one of pyreqwest, httpx"):
        EndpointSettings("openai-compatible", "sim", (URL,), http_client="curl")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs http_client='httpx'"):
        EndpointSettings("openai-compatible", "sim", (URL,), httpx_client=httpx.AsyncClient())


def test_the_environment_is_checked_when_the_model_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELSIM_HTTP_CLIENT", "curl")
    with pytest.raises(ConfigError, match="RELSIM_HTTP_CLIENT must be one of"):
        resolve_model("openai-compatible/sim", base_url=URL)


async def test_a_users_own_httpx_client_carries_every_request(sim_server) -> None:
    server = sim_server()
    paths: list[str] = []

    async def record(request: httpx.Request) -> None:
        paths.append(request.url.path)

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as client:
        settings = _settings(http_client=client, env={})
        assert settings.http_client == "httpx" and "AsyncClient" not in repr(settings)
        provider = provider_for(server.base_url, http_client=client)
        for i in range(3):
            await call_structured(provider, [{"role": "user", "content": f"hi {i}"}],
                                  CommitmentScore, purpose="commitment")
        await provider.aclose()
        assert not client.is_closed  # its owner closes it, not relsim
    # The first call probes the endpoint: its models, then its slots (llama.cpp /props).
    assert paths == ["/v1/models", "/props"] + ["/v1/chat/completions"] * 3
    # The server counts its API's requests; the slots probe found no /props route there.
    assert server.stats()["requests"] == len([p for p in paths if p.startswith("/v1/")])


async def test_relsims_timeout_applies_to_a_users_own_client() -> None:
    stop = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stop.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(timeout=None) as client:  # would wait forever
            settings = parse_model("openai-compatible/sim", base_url=f"http://127.0.0.1:{port}/v1",
                                   http_client=client, retry=RetryPolicy(timeout_s=0.2), env={})
            http = open_http_client(settings)
            with pytest.raises(TransportError, match="the request timed out"):
                await asyncio.wait_for(http.get(f"{settings.base_urls[0]}/models", {}), 5)
    finally:
        stop.set()
        server.close()
        await server.wait_closed()


def test_sync_wrappers_share_a_provider_across_event_loops(
    sim_server, monkeypatch: pytest.MonkeyPatch, http_client: HttpClientName
) -> None:
    """Each sync call runs on a fresh event loop, with the one shared provider per endpoint."""
    server = sim_server()
    monkeypatch.setenv("RELSIM_HTTP_CLIENT", http_client)
    monkeypatch.setenv("RELSIM_BASE_URL", server.base_url)
    model = "openai-compatible/sim"
    first = model_call_structured("hello", CommitmentScore, model=model, purpose="commitment")
    second = model_call_structured("again", CommitmentScore, model=model, purpose="commitment")
    assert isinstance(first, CommitmentScore) and isinstance(second, CommitmentScore)
    provider = resolve_model(model)
    assert isinstance(provider, OpenAIProvider) and provider.settings.http_client == http_client
    assert server.stats()["completed"] == 2
    asyncio.run(provider.aclose())
