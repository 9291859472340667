"""The data a provider takes and gives back, and the Provider protocol itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]


@dataclass(slots=True)
class ChatRequest:
    messages: list[Message]
    purpose: str
    # JSON schema of the expected reply and its name; None asks for free text.
    json_schema: dict[str, Any] | None = None
    schema_name: str | None = None
    temperature: float = 0.8
    max_tokens: int | None = None
    seed: int | None = None
    # The structured facts that are also embedded in the prompt text. In-process providers may
    # read them directly instead of parsing the prompt; HTTP servers only ever see the prompt.
    context: dict[str, Any] | None = None
    sample_index: int = 0


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0  # set by providers with a price table
    # Prompt tokens the server answered from its prefix cache (OpenAI cached_tokens, llama.cpp
    # cache_n); a subset of prompt_tokens.
    cached_prompt_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.cached_prompt_tokens += other.cached_prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd


@dataclass(slots=True)
class ChatResult:
    text: str
    finish_reason: str = "stop"
    usage: Usage = field(default_factory=Usage)
    refusal: str | None = None
    cached: bool = False


@runtime_checkable
class Provider(Protocol):
    """A model endpoint. ``model`` is the model string; ``label`` is what screens show."""

    model: str
    label: str

    async def chat(self, request: ChatRequest) -> ChatResult: ...

    async def embed(self, texts: list[str]) -> list[list[float]]: ...

    async def aclose(self) -> None: ...
