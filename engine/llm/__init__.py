"""Talking to models: one async implementation per call type, thin sync wrappers."""

from __future__ import annotations

from typing import TypeVar, overload

from pydantic import BaseModel

from engine._sync import run_sync
from engine.llm.caller import call_structured, call_text
from engine.llm.registry import resolve_model
from engine.llm.types import ChatRequest, ChatResult, Message, Provider, Usage

T = TypeVar("T", bound=BaseModel)

__all__ = [
    "ChatRequest",
    "ChatResult",
    "Message",
    "Provider",
    "Usage",
    "get_text_embedding",
    "get_text_embedding_async",
    "model_call_structured",
    "model_call_structured_async",
    "model_call_unstructured",
    "model_call_unstructured_async",
    "resolve_model",
]


def _messages(prompt: str | list[Message], system: str | None) -> list[Message]:
    if isinstance(prompt, str):
        messages: list[Message] = [{"role": "user", "content": prompt}]
    else:
        messages = list(prompt)
    if system:
        messages.insert(0, {"role": "system", "content": system})
    return messages


async def model_call_structured_async(
    prompt: str | list[Message],
    schema: type[T],
    *,
    model: str | Provider | None = None,
    system: str | None = None,
    purpose: str = "structured",
    fallback: T | None = None,
    max_attempts: int = 3,
) -> T:
    """Ask ``model`` for a reply matching ``schema``; retried and validated (3 attempts).

    Raises StructuredOutputError after the last attempt unless a ``fallback`` is declared."""
    result = await call_structured(
        resolve_model(model),
        _messages(prompt, system),
        schema,
        purpose=purpose,
        fallback=fallback,
        max_attempts=max_attempts,
    )
    return result.value


def model_call_structured(
    prompt: str | list[Message],
    schema: type[T],
    *,
    model: str | Provider | None = None,
    system: str | None = None,
    purpose: str = "structured",
    fallback: T | None = None,
    max_attempts: int = 3,
) -> T:
    return run_sync(
        model_call_structured_async(
            prompt,
            schema,
            model=model,
            system=system,
            purpose=purpose,
            fallback=fallback,
            max_attempts=max_attempts,
        ),
        "model_call_structured_async",
    )


async def model_call_unstructured_async(
    prompt: str | list[Message],
    *,
    model: str | Provider | None = None,
    system: str | None = None,
    purpose: str = "text",
    max_attempts: int = 3,
) -> str:
    return await call_text(
        resolve_model(model), _messages(prompt, system), purpose=purpose, max_attempts=max_attempts
    )


def model_call_unstructured(
    prompt: str | list[Message],
    *,
    model: str | Provider | None = None,
    system: str | None = None,
    purpose: str = "text",
    max_attempts: int = 3,
) -> str:
    return run_sync(
        model_call_unstructured_async(
            prompt, model=model, system=system, purpose=purpose, max_attempts=max_attempts
        ),
        "model_call_unstructured_async",
    )


@overload
async def get_text_embedding_async(
    text: str, *, model: str | Provider | None = None
) -> list[float]: ...
@overload
async def get_text_embedding_async(
    text: list[str], *, model: str | Provider | None = None
) -> list[list[float]]: ...
async def get_text_embedding_async(
    text: str | list[str], *, model: str | Provider | None = None
) -> list[float] | list[list[float]]:
    """One embedding for a string, a list of embeddings for a list."""
    provider = resolve_model(model)
    if isinstance(text, str):
        return (await provider.embed([text]))[0]
    return await provider.embed(list(text))


@overload
def get_text_embedding(text: str, *, model: str | Provider | None = None) -> list[float]: ...
@overload
def get_text_embedding(
    text: list[str], *, model: str | Provider | None = None
) -> list[list[float]]: ...
def get_text_embedding(
    text: str | list[str], *, model: str | Provider | None = None
) -> list[float] | list[list[float]]:
    return run_sync(get_text_embedding_async(text, model=model), "get_text_embedding_async")
