"""Frozen pydantic models that cost less memory per instance.

Every pydantic instance carries ``__pydantic_fields_set__``, a set of the field names it was
given: 216 bytes for up to four names, 728 for five to eighteen. A running simulation keeps
dozens of models alive (its relationship states with eight sub-states each, emotions,
commitments, the events waiting for the run log), so those sets made a tenth of its memory.
Almost every instance of a class is built with the same fields, so ``CompactModel`` lets them
share one set: after validation, an instance whose set equals the class's canonical one takes
that one instead.

Sharing is safe only because the models are frozen: pydantic adds to the set on attribute
assignment, which a frozen model refuses, and ``model_copy`` copies the set before it adds.
Nothing in relsim mutates ``model_fields_set``; don't start to.

This module imports nothing from the engine, so every layer can build on it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# The canonical fields set of each class: the first one seen. Classes are few, sets are small.
_CANONICAL: dict[type[BaseModel], set[str]] = {}


class CompactModel(BaseModel):
    """A frozen model whose instances share their fields set (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    def model_post_init(self, context: Any, /) -> None:
        share_fields_set(self)


def share_fields_set(model: BaseModel) -> None:
    """Let ``model`` (frozen) use its class's canonical fields set when the two are equal."""
    if not model.model_config.get("frozen"):
        return  # assignment would add to a set other instances share
    own = model.__pydantic_fields_set__
    canonical = _CANONICAL.setdefault(type(model), own)
    if canonical is not own and canonical == own:
        object.__setattr__(model, "__pydantic_fields_set__", canonical)
