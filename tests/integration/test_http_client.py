"""The HTTP clients' failure classes against real sockets on 127.0.0.1, for each client library:
nothing listening is "unreachable" (the batch stops), a connection that dies after it was made is
only transient (the call is retried), a silent server is a timeout. Reasons never carry the URL."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import pytest

from engine.llm.http import open_http_client
from engine.llm.settings import HttpClientName, Limits, RetryPolicy, parse_model
from engine.llm.transport import TransportError
from tests.servers import free_port

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def tcp_server(handler: Handler) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1/chat/completions"
    finally:
        server.close()
        await server.wait_closed()


async def failure(url: str, library: HttpClientName, timeout_s: float = 5.0) -> TransportError:
    settings = parse_model("openai-compatible/sim", base_url=url, http_client=library, env={},
                           limits=Limits(max_in_flight=4, max=4),
                           retry=RetryPolicy(timeout_s=timeout_s))
    client = open_http_client(settings)
    try:
        with pytest.raises(TransportError) as caught:
            await client.post_json(url, b"{}", {"content-type": "application/json"})
    finally:
        await client.aclose()
    assert "127.0.0.1" not in caught.value.reason
    return caught.value


async def test_nothing_listening_is_unreachable(http_client: HttpClientName) -> None:
    err = await failure(f"http://127.0.0.1:{free_port()}/v1/chat/completions", http_client)
    assert err.error_class == "transient" and err.unreachable
    assert err.reason == "cannot connect (Connection refused)"


async def test_a_connection_reset_after_connecting_is_transient_not_unreachable(
    http_client: HttpClientName,
) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with tcp_server(reset) as url:
        err = await failure(url, http_client)
    assert err.error_class == "transient" and not err.unreachable
    assert err.reason.startswith("connection error")


async def test_a_reply_cut_short_is_transient(http_client: HttpClientName) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"choices\": [")
        await writer.drain()
        writer.close()

    async with tcp_server(cut) as url:
        err = await failure(url, http_client)
    assert err.error_class == "transient" and not err.unreachable


async def test_a_silent_server_times_out(http_client: HttpClientName) -> None:
    stop = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stop.wait()
        writer.close()

    async with tcp_server(silent) as url:
        err = await failure(url, http_client, timeout_s=0.3)
        stop.set()
    assert err.error_class == "transient" and err.reason == "the request timed out"


async def test_the_timeout_bounds_the_whole_reply_not_each_read(
    http_client: HttpClientName,
) -> None:
    """A server that keeps sending a byte at a time never lets a per-read timeout fire; the
    request timeout is a deadline for the whole exchange, in both clients."""
    stop = asyncio.Event()

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
        while not stop.is_set():
            writer.write(b" ")
            await writer.drain()
            with suppress(TimeoutError):  # the trickle's pace: a byte every 50 ms until stopped
                await asyncio.wait_for(stop.wait(), 0.05)
        writer.close()

    async with tcp_server(trickle) as url:
        started = asyncio.get_running_loop().time()
        err = await failure(url, http_client, timeout_s=0.3)
        elapsed = asyncio.get_running_loop().time() - started
        stop.set()
    assert err.error_class == "transient" and err.reason == "the request timed out"
    assert elapsed < 2.0, elapsed
