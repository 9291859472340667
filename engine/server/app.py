"""An OpenAI-compatible HTTP front for the built-in simulator (starlette; run by uvicorn).

Routes: POST /v1/chat/completions (``response_format`` json_schema / json_object honoured),
POST /v1/embeddings, GET /v1/models, GET /health, GET /stats (request and fault counters),
POST /stats/reset. Replies come from ``SimProvider.reply`` — the code the in-process ``sim``
uses — so one seed gives the same transcript in-process and over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from engine.llm.embedding import hash_embed
from engine.llm.types import ChatRequest
from engine.server.faults import FaultPlan, RequestLimiter, ServerFaults
from engine.sim.provider import SimFaults, SimLatency, SimProvider

RAW_SEND = "relsim.raw_send"
# Sent by relsim's own provider so text calls and re-asks meet the same simulator as
# in-process; any other client simply gets purpose "text" and sample 0.
PURPOSE_HEADER = "x-relsim-purpose"
SAMPLE_HEADER = "x-relsim-sample"


@dataclass(slots=True)
class ServerConfig:
    faults: ServerFaults = field(default_factory=ServerFaults)
    # Served model ids; empty accepts any model name (the request's model is echoed back).
    models: tuple[str, ...] = ()
    # When set, requests must carry "Authorization: Bearer <api_key>" (else 401).
    api_key: str | None = None

    def __repr__(self) -> str:
        return f"ServerConfig(faults={self.faults!r}, models={self.models!r}, api_key=***)"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


def _error(status: int, message: str, kind: str, code: str | None = None,
           headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return _json(body, status, headers)


class SimServer:
    """The app's state: the simulator, the fault plan and the counters."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        f = config.faults
        self.sim = SimProvider(
            faults=SimFaults(malformed=f.malformed, truncated=f.truncated),
            latency=SimLatency(),
        )
        self.plan = FaultPlan(f)
        self.limiter = RequestLimiter(f.rpm) if f.rpm else None
        self._ids = itertools.count(1)

    @property
    def stats(self) -> Counter[str]:
        return self.plan.stats

    def snapshot(self) -> dict[str, int]:
        out = dict(self.plan.stats)
        for kind in ("malformed", "truncated"):
            if self.sim.stats[kind]:
                out[kind] = self.sim.stats[kind]
        return out

    def reset_stats(self) -> None:
        self.plan.stats.clear()
        self.sim.stats.clear()

    # -- gates shared by every /v1 route -----------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        expected = self.config.api_key
        if not expected:
            return True
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())

    def _gate(self, request: Request) -> tuple[Response | None, dict[str, str]]:
        """Auth, then the requests/min limit; (an error response or None, headers to add)."""
        stats = self.plan.stats
        if not self._authorised(request):
            stats["unauthorized"] += 1
            return _error(401, "Incorrect API key provided.", "invalid_request_error",
                          "invalid_api_key"), {}
        if self.limiter is None:
            return None, {}
        allowed, wait = self.limiter.take()
        headers = self.limiter.headers(wait) if self.config.faults.ratelimit_headers else {}
        if allowed:
            return None, headers
        stats["rpm_limited"] += 1
        headers["retry-after-ms"] = str(max(1, int(wait * 1000)))
        headers["retry-after"] = str(max(1, int(wait + 0.999)))
        return _error(429, "Rate limit reached for requests per minute.", "requests",
                      "rate_limit_exceeded", headers), headers

    async def _http_fault(self, request: Request) -> Response | None:
        fault = self.plan.draw()
        if fault is None:
            return None
        self.plan.stats[fault] += 1
        if fault == "rate_limit":
            hint = self.config.faults.retry_after_s
            return _error(429, "Rate limit reached (injected).", "requests", "rate_limit_exceeded",
                          {"retry-after-ms": str(int(hint * 1000)),
                           "retry-after": str(max(1, int(hint + 0.999)))})
        if fault == "server_error":
            return _error(500, "The server had an error (injected).", "server_error")
        if fault == "hang":
            await _wait_for_disconnect(request, self.config.faults.hang_s)
            return _error(504, "Hung (injected) and gave up.", "server_error")
        _reset_connection(request.scope)
        return Response(b"", 500)

    # -- routes ------------------------------------------------------------------------------

    async def chat(self, request: Request) -> Response:
        arrived = time.monotonic()
        self.plan.stats["requests"] += 1
        denied, headers = self._gate(request)
        if denied is not None:
            return denied
        try:
            body = orjson.loads(await request.body())
            messages = body["messages"]
            model = str(body["model"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.plan.stats["bad_request"] += 1
            return _error(400, "The body must be JSON with 'model' and 'messages'.",
                          "invalid_request_error")
        if self.config.models and model not in self.config.models:
            self.plan.stats["unknown_model"] += 1
            return _error(404, f"The model '{model}' does not exist.", "invalid_request_error",
                          "model_not_found")
        fault = await self._http_fault(request)
        if fault is not None:
            return fault
        # Latency is the whole time from arrival to answer, like a real model server: the
        # reply is written first and the rest of the latency is slept off.
        delay = self.plan.latency()
        chat_request = _chat_request(body, messages, request)
        result = self.sim.reply(chat_request)
        self.plan.stats["completed"] += 1
        usage = result.usage
        reply = {
            "id": f"chatcmpl-sim{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "relsim-sim",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": result.text, "refusal": None},
                "finish_reason": result.finish_reason,
                "logprobs": None,
            }],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
            },
        }
        remaining = delay - (time.monotonic() - arrived)
        if remaining > 0:
            await asyncio.sleep(remaining)
        return _json(reply, headers=headers)

    async def embeddings(self, request: Request) -> Response:
        self.plan.stats["requests"] += 1
        denied, headers = self._gate(request)
        if denied is not None:
            return denied
        try:
            body = orjson.loads(await request.body())
            raw = body["input"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return _error(400, "The body must be JSON with 'input'.", "invalid_request_error")
        texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
        self.plan.stats["embeddings"] += 1
        data = [{"object": "embedding", "index": i, "embedding": hash_embed(t)}
                for i, t in enumerate(texts)]
        tokens = sum(max(1, len(t) // 4) for t in texts)
        return _json({"object": "list", "data": data, "model": str(body.get("model", "sim")),
                      "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}, headers=headers)

    async def models(self, request: Request) -> Response:
        self.plan.stats["requests"] += 1
        denied, headers = self._gate(request)
        if denied is not None:
            return denied
        ids = self.config.models or ("sim",)
        return _json({"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "relsim"} for m in ids]},
            headers=headers)

    async def health(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def get_stats(self, request: Request) -> Response:
        return _json(self.snapshot())

    async def post_reset(self, request: Request) -> Response:
        self.reset_stats()
        return _json({"status": "reset"})


def _chat_request(
    body: dict[str, Any], messages: list[dict[str, Any]], request: Request
) -> ChatRequest:
    schema: dict[str, Any] | None = None
    purpose = request.headers.get(PURPOSE_HEADER) or "text"
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        schema = spec.get("schema") or {"type": "object"}
        purpose = str(spec.get("name") or purpose)
    elif fmt.get("type") == "json_object":
        schema = {"type": "object"}
    try:
        sample = int(request.headers.get(SAMPLE_HEADER, "0"))
    except ValueError:
        sample = 0
    seed = body.get("seed")
    return ChatRequest(
        messages=[{"role": str(m.get("role", "user")), "content": _text(m.get("content"))}
                  for m in messages],
        purpose=purpose,
        json_schema=schema,
        seed=int(seed) if isinstance(seed, int) else None,
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        temperature=float(body.get("temperature", 1.0) or 0.0),
        sample_index=sample,
    )


def _text(content: Any) -> str:
    if isinstance(content, list):  # content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


async def _wait_for_disconnect(request: Request, limit: float) -> None:
    """Hang until the client gives up (or ``limit`` passes, so the server never leaks)."""

    async def disconnected() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), limit)


def _reset_connection(scope: Scope) -> None:
    """Drop the TCP connection with a RST (SO_LINGER 0), as a crashed proxy would."""
    raw_send = scope.get(RAW_SEND)
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def create_app(config: ServerConfig | None = None) -> Starlette:
    server = SimServer(config or ServerConfig())
    app = Starlette(routes=[
        Route("/v1/chat/completions", server.chat, methods=["POST"]),
        Route("/v1/embeddings", server.embeddings, methods=["POST"]),
        Route("/v1/models", server.models, methods=["GET"]),
        Route("/health", server.health, methods=["GET"]),
        Route("/stats", server.get_stats, methods=["GET"]),
        Route("/stats/reset", server.post_reset, methods=["POST"]),
    ])
    app.state.server = server
    return app


class RawSendApp:
    """Keeps the server's own ``send`` in the scope so a reset can reach the socket, and sends
    the two hot routes straight to their handlers: Starlette's router and middleware layers
    cost about as much CPU per request as the simulator itself, and the server's CPU per request
    is what a thousand simulations in lockstep wait on."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.state = app.state
        server: SimServer = app.state.server
        self._hot = {"/v1/chat/completions": server.chat, "/v1/embeddings": server.embeddings}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[RAW_SEND] = send
        handler = self._hot.get(scope.get("path", "")) if scope["type"] == "http" else None
        if handler is not None and scope["method"] == "POST":
            response = await handler(Request(scope, receive, send))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def build_asgi(config: ServerConfig | None = None) -> RawSendApp:
    return RawSendApp(create_app(config))
