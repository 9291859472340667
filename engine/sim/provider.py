"""The ``sim`` provider: the built-in persona simulator behind the Provider protocol.

It lives with the simulator it serves; importing this module registers the model name ``sim``
with the model layer (``engine.llm.registry``), which knows nothing of the domain.

Adds what a real endpoint would do to the simulator's replies: latency, token counts and, at
configured rates, malformed or truncated output. Every random draw is keyed on the request's
seed and messages, so the same request always meets the same fate (sync or async, in-process or
over HTTP).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.errors import ConfigError
from engine.llm.embedding import hash_embed
from engine.llm.registry import register_local_model
from engine.llm.types import ChatRequest, ChatResult, Usage
from engine.sim.prompts import context_from_messages
from engine.sim.simulator import LABEL, write_reply


@dataclass(frozen=True, slots=True)
class SimFaults:
    """Rates (0–1) of bad replies. ``malformed`` is unusable text, ``invalid`` is well-formed
    JSON that breaks the schema, ``truncated`` is cut off at the token limit, ``noise`` wraps
    valid JSON in fences or prose (the tolerant parser must cope; it is not a fault)."""

    malformed: float = 0.0
    invalid: float = 0.0
    truncated: float = 0.0
    noise: float = 0.0

    def __post_init__(self) -> None:
        for name in ("malformed", "invalid", "truncated", "noise"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"fault rate {name}={value} is outside 0..1")
        if self.malformed + self.invalid + self.truncated > 1.0:
            raise ConfigError("fault rates add up to more than 1")


@dataclass(frozen=True, slots=True)
class SimLatency:
    """Seconds per call: ``base`` plus a uniform draw in [0, ``jitter``]."""

    base: float = 0.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.base < 0 or self.jitter < 0:
            raise ConfigError("latency cannot be negative")


def request_key(request: ChatRequest, salt: str = "") -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{salt}|{request.seed}|{request.purpose}|{request.sample_index}|".encode())
    for message in request.messages:
        digest.update(message.get("content", "").encode())
        digest.update(b"\x1e")
    return digest.digest()


def _rng(key: bytes, salt: bytes) -> random.Random:
    return random.Random(int.from_bytes(hashlib.blake2b(key + salt, digest_size=8).digest()))


def approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


@dataclass(slots=True)
class SimProvider:
    """In-process simulator. ``stats`` counts calls and the faults injected, by kind."""

    faults: SimFaults = field(default_factory=SimFaults)
    latency: SimLatency = field(default_factory=SimLatency)
    model: str = "sim"
    label: str = LABEL
    stats: Counter[str] = field(default_factory=Counter)

    def reply(self, request: ChatRequest) -> ChatResult:
        """The reply to ``request`` (no latency): shared by this provider and ``relsim serve``."""
        key = request_key(request)
        self.stats["calls"] += 1
        context = request.context
        if context is None:
            context = context_from_messages(request.messages)
        value = write_reply(
            request.purpose, context, request.json_schema, _rng(key, b"reply"), request.seed
        )
        structured = request.json_schema is not None
        text = orjson.dumps(value).decode() if structured else str(value)
        finish = "stop"
        draw = _rng(key, b"fault").random()
        f = self.faults
        kind = None
        if draw < f.malformed:
            kind = "malformed" if structured else None
        elif draw < f.malformed + f.invalid:
            kind = "invalid" if structured else None
        elif draw < f.malformed + f.invalid + f.truncated:
            kind = "truncated"
        if kind is not None:
            self.stats[kind] += 1
        if kind == "malformed":
            text = "Sure! Here is what I think about that situation, " + text[: len(text) // 3]
            text = text.replace("{", "(").replace("}", ")")
        elif kind == "invalid":
            text = orjson.dumps({"unexpected": True, "note": "not what you asked for"}).decode()
        elif kind == "truncated":
            text = text[: max(1, len(text) // 2)]
            finish = "length"
        elif structured and draw > 1.0 - f.noise:
            text = f"<think>Let me answer in JSON.</think>\nHere you go:\n```json\n{text}\n```"
        prompt_tokens = sum(approx_tokens(m.get("content", "")) for m in request.messages)
        return ChatResult(text, finish, Usage(prompt_tokens, approx_tokens(text)))

    async def chat(self, request: ChatRequest) -> ChatResult:
        delay = self.delay_for(request)
        if delay > 0:
            await asyncio.sleep(delay)
        return self.reply(request)

    def delay_for(self, request: ChatRequest) -> float:
        if self.latency.jitter:
            return (
                self.latency.base
                + _rng(request_key(request), b"lat").random() * self.latency.jitter
            )
        return self.latency.base

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [hash_embed(t) for t in texts]

    async def aclose(self) -> None:
        return None


def sim_options(options: Mapping[str, Any]) -> SimProvider:
    """Build a SimProvider from flat options (``malformed=0.1``, ``latency=0.5`` …)."""
    fault_keys = {"malformed", "invalid", "truncated", "noise"}
    faults = SimFaults(**{k: float(v) for k, v in options.items() if k in fault_keys})
    latency = SimLatency(float(options.get("latency", 0.0)), float(options.get("jitter", 0.0)))
    unknown = set(options) - fault_keys - {"latency", "jitter"}
    if unknown:
        raise ConfigError(f"unknown simulator options: {', '.join(sorted(unknown))}")
    return SimProvider(faults=faults, latency=latency)


def _sim_factory(options: Mapping[str, Any] | None) -> SimProvider:
    return sim_options(options) if options else SimProvider()


register_local_model("sim", _sim_factory, description="the built-in simulator")
