"""The replay cache: content-addressed record/replay of model replies, as a provider wrapper.

The key is a hash of canonical request JSON: model, base URL, messages, sampling, schema, seed
and sample index. Modes: ``off``, ``read-write`` (hits are served, misses go to the endpoint and
are recorded) and ``replay-only`` (a miss is an error; no request ever leaves). Errors, refusals
and truncated replies are never recorded, so a replay meets the same re-asks as the original run.

One small JSON file per entry (sharded by the first two hex digits), written atomically, so
several processes can share a cache directory without a lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from engine.errors import CacheMissError, ConfigError
from engine.llm.types import ChatRequest, ChatResult, Provider, Usage

MODES = ("off", "read-write", "replay-only")
KEY_VERSION = 1


def request_key(model: str, base_url: str, request: ChatRequest) -> str:
    canonical = {
        "v": KEY_VERSION,
        "model": model,
        "base_url": base_url,
        "messages": request.messages,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "schema": request.json_schema,
        "schema_name": request.schema_name,
        "purpose": request.purpose,
        "sample": request.sample_index,
    }
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def embed_key(model: str, base_url: str, texts: list[str]) -> str:
    canonical = {"v": KEY_VERSION, "model": model, "base_url": base_url, "embed": texts}
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ReplayCache:
    def __init__(self, directory: str | os.PathLike[str], mode: str = "read-write") -> None:
        if mode not in MODES:
            raise ConfigError(f"cache mode must be one of {', '.join(MODES)}")
        self.directory = Path(directory)
        self.mode = mode
        self.hits = 0
        self.misses = 0
        self.writes = 0

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        try:
            data = orjson.loads(self._path(key).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            self.misses += 1
            return None
        self.hits += 1
        return data

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(value))
        os.replace(tmp, path)  # atomic: a reader never sees half an entry
        self.writes += 1


class CachedProvider:
    """Wraps a provider with a ReplayCache; ``base_url`` is part of every key."""

    def __init__(self, inner: Provider, cache: ReplayCache, base_url: str) -> None:
        self.inner = inner
        self.cache = cache
        self.base_url = base_url
        self.model = inner.model
        self.label = inner.label

    def __repr__(self) -> str:
        return f"CachedProvider({self.inner!r}, mode={self.cache.mode!r})"

    async def chat(self, request: ChatRequest) -> ChatResult:
        key = request_key(self.model, self.base_url, request)
        hit = self.cache.get(key)
        if hit is not None:
            # Yield once, as a real reply would: concurrent calls of one step then interleave
            # the same way on replay as they did when recorded.
            await asyncio.sleep(0)
            usage = hit.get("usage") or [0, 0]
            return ChatResult(hit["text"], hit.get("finish_reason", "stop"),
                              Usage(int(usage[0]), int(usage[1])), None, cached=True)
        if self.cache.mode == "replay-only":
            raise CacheMissError(
                f"replay-only cache has no reply for this {request.purpose} request "
                f"(model {self.model}); rerun with the cache in read-write mode to record it"
            )
        result = await self.inner.chat(request)
        if result.refusal is None and result.finish_reason != "length":
            self.cache.put(key, {
                "text": result.text,
                "finish_reason": result.finish_reason,
                "usage": [result.usage.prompt_tokens, result.usage.completion_tokens],
            })
        return result

    async def embed(self, texts: list[str]) -> list[list[float]]:
        key = embed_key(self.model, self.base_url, texts)
        hit = self.cache.get(key)
        if hit is not None:
            await asyncio.sleep(0)
            return [list(map(float, row)) for row in hit["vectors"]]
        if self.cache.mode == "replay-only":
            raise CacheMissError(
                f"replay-only cache has no embeddings for this input ({self.model})"
            )
        vectors = await self.inner.embed(texts)
        self.cache.put(key, {"vectors": vectors})
        return vectors

    async def aclose(self) -> None:
        await self.inner.aclose()

    def __getattr__(self, name: str) -> Any:  # usage(), settings, pool … of the inner provider
        return getattr(self.inner, name)
