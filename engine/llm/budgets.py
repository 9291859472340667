"""Output budgets: the ``max_tokens`` each call purpose may generate, in one place.

Every call is sent with a budget sized to what its reply schema needs (with room to spare), so a
model that falls into a loop stops at the budget instead of running to the context's end and the
request timeout. A reply cut by its budget (finish_reason "length") is re-asked for a shorter
reply with the same budget (``engine.llm.caller``): a runaway costs at most one budget per
attempt. A batch may override entries (its ``[max_tokens]`` table); the override applies to the
calls made inside ``budget_overrides``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

from engine.errors import ConfigError

# Sized to each schema's longest valid reply (its text fields' maxLength at about 3.5 characters
# a token, plus JSON punctuation) with room to spare. Purposes are the simulation's call names.
DEFAULT_MAX_TOKENS: Mapping[str, int] = MappingProxyType({
    "scene_setup": 700,
    "perspective": 300,
    "beat": 450,
    "appraisal": 350,
    "choices": 700,
    "options": 450,
    "action": 400,
    "memory_appraisal": 450,
    "reflection": 400,
    "summary": 900,
    "state": 900,
    "commitment": 350,
    "transition": 350,
    "scene_choice": 250,
    "after_action_report": 2000,
    "personas_baseline": 350,
    "intake": 1500,
})
# A purpose not in the table (a user's own call through the SDK functions).
DEFAULT_BUDGET = 600
MAX_BUDGET = 32_768

_overrides: ContextVar[Mapping[str, int] | None] = ContextVar("relsim_max_tokens", default=None)


def check_budgets(table: Mapping[str, object]) -> dict[str, int]:
    """A batch's ``[max_tokens]`` table, checked: purpose → a positive whole number."""
    out: dict[str, int] = {}
    for purpose, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BUDGET:
            raise ConfigError(
                f"max_tokens.{purpose} must be a whole number of tokens from 1 to {MAX_BUDGET}, "
                f"got {value!r}"
            )
        out[str(purpose)] = value
    return out


def budget_for(purpose: str) -> int:
    """The output budget of a call made for ``purpose`` (the batch's override wins)."""
    table = _overrides.get()
    if table is not None and purpose in table:
        return table[purpose]
    return DEFAULT_MAX_TOKENS.get(purpose, DEFAULT_BUDGET)


def use_budgets(table: Mapping[str, int] | None) -> None:
    """Set the overrides in the current context (e.g. a copied one a task is started in)."""
    _overrides.set(dict(table) if table else None)


@contextmanager
def budget_overrides(table: Mapping[str, int] | None) -> Iterator[None]:
    """Calls made inside (and tasks started inside) use ``table``'s budgets first."""
    token = _overrides.set(dict(table) if table else None)
    try:
        yield
    finally:
        _overrides.reset(token)
