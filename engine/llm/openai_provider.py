"""The provider for any OpenAI-compatible chat-completions server (OpenAI, Ollama /v1, vLLM,
llama.cpp server, LM Studio, OpenRouter, ``relsim serve``).

Structured output: ``json_schema`` (schema-constrained decoding; strict where the schema allows)
by default, ``json_object`` for Ollama, or ``prompt`` (schema in the prompt) — the caller's
tolerant parse + validate + re-ask loop stays in front of all of them. vLLM and llama.cpp
silently ignore older shapes (``guided_json``, a bare ``schema`` key), so only the current
``response_format`` shape is sent.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

import orjson

from engine.errors import EndpointFatalError, EndpointUnsupportedError, LLMError
from engine.llm.coalesce import EmbeddingCoalescer
from engine.llm.embedding import hash_embed
from engine.llm.endpoints import EndpointPool, EndpointUsage, Replica, fatal_error
from engine.llm.events import EmbeddingsFallback
from engine.llm.pricing import PriceTable
from engine.llm.scope import current_scope
from engine.llm.settings import LOCAL_EMBED, EndpointSettings
from engine.llm.transport import TransportError, with_retries
from engine.llm.types import ChatRequest, ChatResult, Usage

log = logging.getLogger("relsim.llm")

PURPOSE_HEADER = "x-relsim-purpose"
SAMPLE_HEADER = "x-relsim-sample"
_NAME = re.compile(r"[^a-zA-Z0-9_-]")
# Token estimate for a reply when the request sets no max_tokens (tokens/min reservations).
DEFAULT_REPLY_TOKENS = 512


def strict_schema(schema: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A copy of a pydantic JSON schema fit for ``strict`` decoding, and whether strict applies.

    Strict mode needs ``additionalProperties: false`` on every object and every property
    required; a schema with optional properties is sent with strict=false (still constrained
    by most backends) rather than silently changing what the model may leave out."""
    out = copy.deepcopy(schema)
    strict = True

    def visit(node: Any) -> None:
        nonlocal strict
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                node.setdefault("additionalProperties", False)
                props = node.get("properties", {})
                if set(props) - set(node.get("required", [])):
                    strict = False
            node.pop("default", None)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(out)
    return out, strict


class OpenAIProvider:
    """Chat completions and embeddings on an endpoint pool (one or more replicas)."""

    def __init__(self, settings: EndpointSettings, prices: PriceTable | None = None) -> None:
        self.settings = settings
        self.prices = prices
        self.model = settings.model_string
        self.label = f"{settings.model_string} @ {settings.endpoint}"
        self.pool = EndpointPool(settings)
        self._formats: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._embeddings = EmbeddingCoalescer(self._embed_now)
        # Why embeddings are hashed locally (None: the endpoint embeds).
        self.embed_fallback: str | None = (
            "chosen (embed_model = local)" if settings.embed_model == LOCAL_EMBED else None
        )
        self._headers = {"content-type": "application/json"}
        if settings.api_key is not None:
            self._headers["authorization"] = f"Bearer {settings.api_key.reveal()}"

    def __repr__(self) -> str:
        return f"OpenAIProvider({self.model!r}, endpoint={self.settings.endpoint!r})"

    # -- request shape -------------------------------------------------------------------------

    def _response_format(self, request: ChatRequest) -> dict[str, Any]:
        schema = request.json_schema
        assert schema is not None
        cached = self._formats.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        name = _NAME.sub("_", request.schema_name or request.purpose or "reply")[:64] or "reply"
        converted, strict = strict_schema(schema)
        fmt = {"type": "json_schema",
               "json_schema": {"name": name, "schema": converted, "strict": strict}}
        # Keyed by identity: the caller's schemas are cached objects, so this stays small.
        self._formats[id(schema)] = (schema, fmt)
        return fmt

    def body(self, request: ChatRequest) -> dict[str, Any]:
        messages: list[dict[str, str]] = request.messages
        body: dict[str, Any] = {"model": self.settings.model, "messages": messages,
                                "temperature": request.temperature}
        if request.seed is not None:
            body["seed"] = request.seed
        if request.max_tokens:
            # OpenAI's own API renamed the field; compatible servers know the old name.
            key = "max_completion_tokens" if self.settings.provider == "openai" else "max_tokens"
            body[key] = request.max_tokens
        if request.json_schema is not None:
            mode = self.settings.structured
            if mode == "json_schema":
                body["response_format"] = self._response_format(request)
            else:
                prompt = {"role": "system", "content": _schema_prompt(request)}
                body["messages"] = [*messages, prompt]
                if mode == "json_object":
                    body["response_format"] = {"type": "json_object"}
        return body

    def _request_headers(self, request: ChatRequest) -> dict[str, str]:
        return {**self._headers, PURPOSE_HEADER: request.purpose,
                SAMPLE_HEADER: str(request.sample_index)}

    # -- Provider protocol -------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResult:
        body = orjson.dumps(self.body(request))
        headers = self._request_headers(request)
        estimate = sum(len(m.get("content", "")) for m in request.messages) // 4 + (
            request.max_tokens or DEFAULT_REPLY_TOKENS)
        replica, reply, elapsed = await self._call(
            "/chat/completions", body, headers, estimate, request.purpose
        )
        result = parse_chat(reply)
        usage = result.usage
        replica.limiter.on_latency(elapsed / (usage.completion_tokens + 1))
        account = replica.usage
        account.prompt_tokens += usage.prompt_tokens
        account.cached_prompt_tokens += usage.cached_prompt_tokens
        account.completion_tokens += usage.completion_tokens
        if self.prices is not None:
            result.usage.cost_usd = self.prices.cost(self.settings.model, result.usage)
            account.cost_usd += result.usage.cost_usd
        return result

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return await self._embeddings.embed(texts)

    async def _embed_now(self, texts: list[str]) -> list[list[float]]:
        if self.embed_fallback is not None:
            return [hash_embed(t) for t in texts]
        body = orjson.dumps({"model": self.settings.embed_name, "input": texts})
        estimate = sum(len(t) for t in texts) // 4 + 1
        try:
            replica, data, _ = await self._call(
                "/embeddings", body, self._headers, estimate, "embedding"
            )
        except EndpointFatalError as err:
            # Only the default may fall back: a model the user named must work or say why.
            if not (self.settings.embed_default and cannot_embed(err)):
                raise
            self._fall_back(str(err))
            return [hash_embed(t) for t in texts]
        replica.usage.prompt_tokens += int((data.get("usage") or {}).get("prompt_tokens") or 0)
        try:
            rows = sorted(data["data"], key=lambda row: row.get("index", 0))
            return [list(map(float, row["embedding"])) for row in rows]
        except (KeyError, TypeError, ValueError):
            raise LLMError("the endpoint returned embeddings in an unexpected shape") from None

    def _fall_back(self, reason: str) -> None:
        """Hash embeddings from now on; said once (event and log line), never per call."""
        if self.embed_fallback is not None:
            return
        self.embed_fallback = "the endpoint has none"
        log.warning("embeddings: local — %s has none (%s)", self.settings.endpoint, reason[:200])
        scope = current_scope()
        scope.emit(EmbeddingsFallback(sim_id=scope.sim_id, endpoint=self.settings.endpoint,
                                      model=self.settings.embed_name, reason=reason[:300]))

    async def _call(self, path: str, body: bytes, headers: dict[str, str], tokens: int,
                    purpose: str) -> tuple[Replica, dict[str, Any], float]:
        pool = self.pool

        async def once() -> tuple[Replica, bytes, float]:
            replica, reply = await pool.send(path, body, headers, tokens)
            return replica, reply.body, reply.elapsed_s

        try:
            replica, raw, elapsed = await with_retries(
                once, policy=self.settings.retry, purpose=purpose, endpoint=self.settings.endpoint
            )
        except TransportError as err:  # fatal or unsupported
            if pool.fatal is not None:
                raise pool.fatal from None
            if err.error_class == "unsupported":
                unsupported = EndpointUnsupportedError(
                    f"{self.settings.endpoint} does not support {path.lstrip('/')} "
                    f"({err.reason})", status=err.status, endpoint=self.settings.endpoint)
                if path != "/embeddings":  # no chat: every call would fail the same way
                    pool.fatal = unsupported
                raise unsupported from None
            raise fatal_error(err, self.settings, self.settings.endpoint) from None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise LLMError(f"{self.settings.endpoint} sent a reply that is not JSON") from None
        if not isinstance(data, dict):
            raise LLMError(f"{self.settings.endpoint} sent an unexpected reply")
        return replica, data, elapsed

    def usage(self) -> dict[str, EndpointUsage]:
        """Per replica: requests (every attempt), tokens and cost."""
        return self.pool.usage()

    async def aclose(self) -> None:
        for replica in self.pool.replicas:
            await replica.http.aclose()


def parse_chat(data: dict[str, Any]) -> ChatResult:
    try:
        choice = data["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError):
        raise LLMError("the endpoint returned a completion without choices") from None
    usage = data.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    if cached is None:  # llama.cpp: prompt tokens reused from the slot's cache
        cached = (data.get("timings") or {}).get("cache_n")
    text = message.get("content")
    if isinstance(text, list):  # content parts
        text = "".join(str(p.get("text", "")) for p in text if isinstance(p, dict))
    return ChatResult(
        text=text or "",
        finish_reason=str(choice.get("finish_reason") or "stop"),
        usage=Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0),
                    cached_prompt_tokens=int(cached or 0)),
        refusal=message.get("refusal") or None,
    )


def cannot_embed(err: EndpointFatalError) -> bool:
    """The endpoint has no embeddings, or not with this model: no route (404, 501), "does not
    support", or a 400 about the model or embeddings."""
    if isinstance(err, EndpointUnsupportedError) or err.status in (404, 501):
        return True
    text = str(err).lower()
    return err.status == 400 and any(w in text for w in ("embed", "model", "support"))


def _schema_prompt(request: ChatRequest) -> str:
    schema = orjson.dumps(request.json_schema).decode()
    return ("Reply with only one JSON object (no prose, no code fences) matching this JSON "
            f"schema: {schema}")


__all__ = ["EndpointFatalError", "OpenAIProvider", "parse_chat", "strict_schema"]
