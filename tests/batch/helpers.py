"""Shared helpers for batch tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.batch.spec import BatchSpec
from engine.llm.registry import resolve_model
from engine.llm.scope import current_scope
from engine.llm.types import ChatRequest, ChatResult, Provider

TRIO = ["aiko-tanaka", "kwame-asante", "jun-park"]


def small_spec(tmp_path: Path, **overrides: Any) -> BatchSpec:
    """Three pairs, two short scenes: a whole batch runs in a fraction of a second."""
    data: dict[str, Any] = {
        "name": "t", "personas": TRIO, "scenes": 2, "beats": 1, "seed": 5,
        "out": str(tmp_path / "logs"), "sim": {"malformed": 0.05},
    }
    data.update(overrides)
    return BatchSpec(**data)


def spec_provider(spec: BatchSpec) -> Provider:
    """A fresh provider for the model ``spec`` names (with its simulator options)."""
    return resolve_model(spec.model, base_url=spec.base_url, sim=dict(spec.sim) or None)


class Boom(RuntimeError):
    pass


class FaultyProvider:
    """Delegates to ``inner`` but raises for chosen simulations after ``after`` of their calls."""

    def __init__(self, inner: Provider, fail: set[str], after: int = 3,
                 exc: type[BaseException] = Boom) -> None:
        self.inner, self.fail, self.after, self.exc = inner, fail, after, exc
        self.model, self.label = inner.model, inner.label
        self.calls: dict[str, int] = {}

    async def chat(self, request: ChatRequest) -> ChatResult:
        sim_id = current_scope().sim_id
        n = self.calls[sim_id] = self.calls.get(sim_id, 0) + 1
        if sim_id in self.fail and n > self.after:
            raise self.exc(f"injected failure in {sim_id}")
        return await self.inner.chat(request)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self.inner.embed(texts)

    async def aclose(self) -> None:
        return None


def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def logs_of(reader: Any) -> dict[str, list[dict[str, Any]]]:
    return {s: [e.model_dump() for e in reader.commitment_log(s)] for s in reader.sim_ids()}
