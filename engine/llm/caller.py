"""The caller layer: one retry loop for unusable model output.

Builds the request, sends it through the provider, parses tolerantly, validates against the
pydantic schema and re-asks with the compact validation errors. Every request carries the
output budget of its purpose (``engine.llm.budgets``); a reply cut by it is re-asked for a
shorter one. Every failed attempt is logged and emitted as a RetryWarning; after the last one
the raw reply is logged and the call either raises (critical calls) or returns its declared
fallback, marked as such.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from engine.errors import LLMError, StructuredOutputError
from engine.llm.budgets import budget_for
from engine.llm.events import CallCompleted, CallFailed, RetryWarning
from engine.llm.parsing import ParseError, parse_reply
from engine.llm.scope import CallScope, current_scope
from engine.llm.types import ChatRequest, ChatResult, Message, Provider, Usage
from engine.textsafe import printable

log = logging.getLogger("relsim.llm")

T = TypeVar("T", bound=BaseModel)

DEFAULT_ATTEMPTS = 3
RAW_LOG_LIMIT = 2000


@dataclass(slots=True)
class StructuredResult(Generic[T]):
    value: T
    fallback: bool
    attempts: int
    usage: Usage = field(default_factory=Usage)


class _AttemptError(Exception):
    def __init__(self, error_class: str, reason: str) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.reason = reason


@cache
def json_schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


def _compact_errors(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False, include_input=False)[:6]:
        loc = ".".join(str(p) for p in e["loc"]) or "(root)"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


# A reply cut by its budget is shown back only in part: a looping model's whole reply would
# fill the context of every later attempt.
TRUNCATED_ECHO = 300


def _reask(messages: list[Message], raw: str, reason: str, structured: bool) -> list[Message]:
    fix = (
        "Reply again with only one JSON object that matches the schema."
        if structured
        else "Reply again, complete and in plain text."
    )
    return [
        *messages,
        {"role": "assistant", "content": raw[:RAW_LOG_LIMIT]},
        {"role": "user", "content": f"Your previous reply could not be used ({reason}). {fix}"},
    ]


def _reask_shorter(
    messages: list[Message], raw: str, budget: int, structured: bool
) -> list[Message]:
    """The re-ask after a reply ran past its budget: the same budget, a shorter reply."""
    what = "only one JSON object that matches the schema, every text field one short sentence"
    if not structured:
        what = "a complete reply of a few sentences in plain text"
    return [
        *messages,
        {"role": "assistant", "content": raw[:TRUNCATED_ECHO]},
        {"role": "user", "content": (
            f"Your previous reply was cut off: it ran past the limit of {budget} tokens. "
            f"Reply again, much shorter, with {what}. Do not repeat yourself."
        )},
    ]


async def call_structured(
    provider: Provider,
    messages: list[Message],
    schema: type[T],
    *,
    purpose: str,
    agent: str | None = None,
    fallback: T | None = None,
    max_attempts: int = DEFAULT_ATTEMPTS,
    context: dict[str, Any] | None = None,
    validation_context: dict[str, Any] | None = None,
    max_tokens: int | None = None,
    temperature: float = 0.8,
) -> StructuredResult[T]:
    """Ask for a reply matching ``schema``; see the module docstring for the retry rules."""

    def accept(result: ChatResult) -> tuple[T, int]:
        try:
            parsed = parse_reply(result.text)
        except ParseError as exc:
            raise _AttemptError("parse", str(exc)) from None
        try:
            value = schema.model_validate(parsed.value, context=validation_context)
        except ValidationError as exc:
            raise _AttemptError("validation", _compact_errors(exc)) from None
        return value, len(parsed.repairs)

    value, attempts, usage, failure = await _attempt_loop(
        provider,
        ChatRequest(
            messages=messages,
            purpose=purpose,
            json_schema=json_schema_of(schema),
            schema_name=purpose,
            context=context,
            max_tokens=max_tokens,
            temperature=temperature,
        ),
        accept,
        agent=agent,
        max_attempts=max_attempts,
        has_fallback=fallback is not None,
    )
    if failure is None:
        return StructuredResult(value, False, attempts, usage)  # type: ignore[arg-type]
    if fallback is not None:
        return StructuredResult(fallback, True, attempts, usage)
    reason, raw = failure
    raise StructuredOutputError(purpose, attempts, reason, raw)


async def call_text(
    provider: Provider,
    messages: list[Message],
    *,
    purpose: str,
    agent: str | None = None,
    max_attempts: int = DEFAULT_ATTEMPTS,
    context: dict[str, Any] | None = None,
    max_tokens: int | None = None,
    temperature: float = 0.8,
) -> str:
    """Ask for free text. Empty, truncated or refused replies are retried like bad JSON."""

    def accept(result: ChatResult) -> tuple[str, int]:
        text = result.text.strip()
        if not text:
            raise _AttemptError("empty", "the reply was empty")
        return text, 0

    value, attempts, _, failure = await _attempt_loop(
        provider,
        ChatRequest(
            messages=messages,
            purpose=purpose,
            context=context,
            max_tokens=max_tokens,
            temperature=temperature,
        ),
        accept,
        agent=agent,
        max_attempts=max_attempts,
        has_fallback=False,
    )
    if failure is not None:
        reason, _raw = failure
        raise LLMError(f"{purpose}: no usable reply after {attempts} attempts: {reason}")
    return value  # type: ignore[return-value]


async def _attempt_loop(
    provider: Provider,
    request: ChatRequest,
    accept: Callable[[ChatResult], tuple[Any, int]],
    *,
    agent: str | None,
    max_attempts: int,
    has_fallback: bool,
) -> tuple[Any, int, Usage, tuple[str, str] | None]:
    scope = current_scope()
    if request.seed is None:
        request.seed = scope.seed
    if request.max_tokens is None:
        request.max_tokens = budget_for(request.purpose)
    usage = Usage()
    started = time.perf_counter()
    cached = True
    raw = ""
    reason = ""
    structured = request.json_schema is not None
    attempt = 0
    for attempt in range(1, max_attempts + 1):
        result = await provider.chat(request)
        usage.add(result.usage)
        cached = cached and result.cached
        raw = result.text
        try:
            if result.refusal:
                raise _AttemptError("refusal", f"the model refused: {result.refusal[:200]}")
            if result.finish_reason == "length":
                raise _AttemptError("truncation", "the reply was cut off at the token limit")
            value, repairs = accept(result)
        except _AttemptError as err:
            reason = err.reason
            will_retry = attempt < max_attempts
            log.warning(
                "[%s] %s%s attempt %d/%d failed (%s): %s",
                scope.sim_id or "-",
                request.purpose,
                f" ({agent})" if agent else "",
                attempt,
                max_attempts,
                err.error_class,
                printable(err.reason),
            )
            scope.emit(
                RetryWarning(
                    sim_id=scope.sim_id,
                    purpose=request.purpose,
                    agent=agent,
                    attempt=attempt,
                    max_attempts=max_attempts,
                    error_class=err.error_class,
                    reason=err.reason[:300],
                    will_retry=will_retry,
                )
            )
            if will_retry:
                if err.error_class == "truncation":
                    # Same budget, shorter reply: a model that loops costs one budget per
                    # attempt, never a growing one (nor a timeout).
                    request.messages = _reask_shorter(
                        request.messages, raw, request.max_tokens or 0, structured
                    )
                else:
                    request.messages = _reask(request.messages, raw, err.reason, structured)
                request.sample_index = attempt
            continue
        _completed(scope, request.purpose, agent, attempt, usage, started, cached, False, repairs)
        return value, attempt, usage, None

    log.error(
        "[%s] %s%s failed after %d attempts: %s\nRaw response: %s",
        scope.sim_id or "-",
        request.purpose,
        f" ({agent})" if agent else "",
        attempt,
        printable(reason),
        # Model text is untrusted: escaped, never interpreted by the terminal.
        printable(raw[:RAW_LOG_LIMIT]),
    )
    scope.emit(
        CallFailed(
            sim_id=scope.sim_id,
            purpose=request.purpose,
            agent=agent,
            attempts=attempt,
            error=reason[:300],
            raw_response=raw[:RAW_LOG_LIMIT],
            fallback=has_fallback,
        )
    )
    _completed(scope, request.purpose, agent, attempt, usage, started, False, has_fallback)
    return None, attempt, usage, (reason, raw)


def _completed(
    scope: CallScope,
    purpose: str,
    agent: str | None,
    attempts: int,
    usage: Usage,
    started: float,
    cached: bool,
    fallback: bool,
    repairs: int = 0,
) -> None:
    if scope.sink is None:
        return
    scope.emit(
        CallCompleted(
            sim_id=scope.sim_id,
            purpose=purpose,
            agent=agent,
            attempts=attempts,
            prompt_tokens=usage.prompt_tokens,
            cached_prompt_tokens=usage.cached_prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd,
            latency_s=time.perf_counter() - started,
            cached=cached,
            fallback=fallback,
            repairs=repairs,
        )
    )
