"""The HTTP client interface of the transport, and the choice between its implementations.

A replica talks HTTP through an ``HttpClient``: POST a JSON body or GET, each bounded by the
endpoint's request timeout, returning status, headers and body (``HttpReply``). Whatever the
library, a network failure is raised as a ``TransportError`` of relsim's failure classes (built
by the helpers below, so both implementations word them alike, never with the URL):

- nothing listening or no such host: transient and ``unreachable`` (the batch stops at once
  unless the endpoint has answered before);
- a connection reset or a reply cut short after connecting: transient (retried);
- no complete reply within the timeout: transient, "the request timed out".

Implementations, each in its own module and imported only when chosen: ``pyreqwest`` (the
default: the least CPU per request, see ``pyreqwest_client``) and ``httpx``
(``RELSIM_HTTP_CLIENT=httpx``, or ``parse_model(..., http_client=...)`` with the name or one's own
``httpx.AsyncClient`` for proxies, custom TLS or another transport).
"""

from __future__ import annotations

import os
import ssl
from typing import TYPE_CHECKING, NamedTuple, Protocol

from engine.llm.transport import HttpReply, TransportError

if TYPE_CHECKING:
    from engine.llm.settings import EndpointSettings

__all__ = ["HttpClient", "HttpReply", "Timeouts", "open_http_client"]


class HttpClient(Protocol):
    """One replica's HTTP client. Failures raise ``TransportError``; replies of any status
    (4xx and 5xx included) are returned for the endpoint to classify."""

    async def post_json(self, url: str, body: bytes, headers: dict[str, str]) -> HttpReply:
        """POST ``body`` (already JSON-encoded) to ``url``."""
        ...

    async def get(self, url: str, headers: dict[str, str]) -> HttpReply: ...

    async def aclose(self) -> None:
        """Close the connections this client opened (never a client the user passed in)."""
        ...


def open_http_client(settings: EndpointSettings) -> HttpClient:
    """The client ``settings`` choose, sized to the replica's largest concurrency limit."""
    connections, retry = settings.limits.max, settings.retry
    timeouts = Timeouts(
        retry.connect_timeout_s, retry.first_byte_timeout_s or retry.timeout_s, retry.timeout_s
    )
    if settings.http_client == "httpx":
        from engine.llm.http.httpx_client import HttpxClient

        return HttpxClient(connections, timeouts, client=settings.httpx_client)
    from engine.llm.http.pyreqwest_client import PyreqwestClient

    return PyreqwestClient(connections, timeouts)


class Timeouts(NamedTuple):
    """Seconds to connect, to the first byte of a reply (and between bytes), for all of it."""

    connect_s: float
    first_byte_s: float
    total_s: float


# -- the failure classes, worded once for every implementation ---------------------------------


def timed_out() -> TransportError:
    return TransportError("transient", "the request timed out")


def cannot_connect(cause: str) -> TransportError:
    """No connection could be made at all: ``cause`` is e.g. "Connection refused"."""
    return TransportError("transient", f"cannot connect ({cause})", unreachable=True)


def connection_lost(kind: str) -> TransportError:
    """A connection failed after it was made: reset, closed mid-reply, undecodable body."""
    return TransportError("transient", f"connection error: {kind}")


def os_cause(exc: BaseException) -> str:
    """The innermost OS-level reason in an exception chain ("Connection refused"), never a
    message naming an address or URL."""
    reason = "connection failed"
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):  # its errno is OpenSSL's, not the OS's
            reason = getattr(current, "verify_message", None) or current.reason or "TLS error"
            reason = f"TLS: {reason}"
        elif isinstance(current, OSError) and isinstance(current.errno, int):
            # A positive errno has a fixed text; getaddrinfo's negative codes carry theirs.
            text = os.strerror(current.errno) if current.errno > 0 else current.strerror
            if text and "://" not in text:
                reason = text
        current = current.__cause__ or current.__context__
    return reason
