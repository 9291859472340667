"""The httpx HTTP client (``RELSIM_HTTP_CLIENT=httpx``): for set-ups that need httpx's proxies,
TLS options or transports, or a user's own ``httpx.AsyncClient``.

It costs more CPU per request than pyreqwest (measured at 64 in flight against one loopback
server: httpx's default transport ~2.5 ms, pyreqwest ~0.1 ms), which matters only when a
batch's own client is the bottleneck, as against a fast local server.
"""

from __future__ import annotations

import asyncio

import httpx

from engine.llm.http import Timeouts, cannot_connect, connection_lost, os_cause, timed_out
from engine.llm.transport import HttpReply

# The same redirect limit as reqwest's default, so both clients follow the same replies.
_MAX_REDIRECTS = 10


class HttpxClient:
    """One replica's ``httpx.AsyncClient``: relsim's own, or ``client`` when the user gives one.

    A given client is used as configured (proxies, TLS, headers, limits) and left open by
    ``aclose`` — its owner closes it — except that relsim's request timeout applies to every
    request, as a total deadline like pyreqwest's. An httpx client's connections belong to the
    event loop that opened them: relsim's own is rebuilt when the loop changes (each sync
    wrapper call runs on a fresh loop); a given one must be used on the loop that made it."""

    def __init__(
        self, connections: int, timeouts: Timeouts, client: httpx.AsyncClient | None = None
    ) -> None:
        self.connections = connections
        self.timeout_s = timeouts.total_s
        self._timeout = httpx.Timeout(
            timeouts.total_s, connect=timeouts.connect_s, read=timeouts.first_byte_s
        )
        self._given = client
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _get(self) -> httpx.AsyncClient:
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        client = self._client
        if client is None or self._loop is not loop:
            # A client left on a finished loop cannot be closed from this one: dropped, its
            # sockets are closed when it is collected.
            client = self._client = httpx.AsyncClient(
                limits=httpx.Limits(
                    max_connections=self.connections,
                    max_keepalive_connections=self.connections,
                ),
                timeout=self._timeout,
                follow_redirects=True,
                max_redirects=_MAX_REDIRECTS,
                headers={"user-agent": "relsim"},
            )
            self._loop = loop
        return client

    async def post_json(self, url: str, body: bytes, headers: dict[str, str]) -> HttpReply:
        return await self._exchange("POST", url, headers, body)

    async def get(self, url: str, headers: dict[str, str]) -> HttpReply:
        return await self._exchange("GET", url, headers, None)

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> HttpReply:
        client = self._get()
        try:
            # httpx's timeouts are per phase (connect, each read…); the deadline bounds the whole.
            async with asyncio.timeout(self.timeout_s):
                response = await client.request(
                    method, url, content=body, headers=headers, timeout=self._timeout
                )
        except (httpx.TimeoutException, TimeoutError):
            raise timed_out() from None
        except httpx.ConnectError as exc:
            raise cannot_connect(os_cause(exc)) from None
        except httpx.RequestError as exc:
            # Reset, server disconnected, truncated or undecodable body: all transient.
            raise connection_lost(type(exc).__name__) from None
        return HttpReply(response.status_code, response.headers, response.content)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        loop, self._loop = self._loop, None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()
