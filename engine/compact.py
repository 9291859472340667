"""Frozen pydantic models that cost less memory per instance.

Every pydantic instance carries ``__pydantic_fields_set__``, a set of the field names it was
given: 216 bytes for up to four names, 728 for five to eighteen. A running simulation keeps
dozens of models alive (its relationship states with eight sub-states each, emotions,
commitments, the events waiting for the run log), so those sets made a tenth of its memory.
Almost every instance of a class is built with the same fields, so ``CompactModel`` lets them
share one set: after validation, an instance whose set equals one of its class's canonical
ones takes that one instead.

Sharing is safe only because the models are frozen: pydantic adds to the set on attribute
assignment, which a frozen model refuses, and ``model_copy`` copies the set before it adds.
Nothing in relsim mutates ``model_fields_set``; don't start to.

This module imports nothing from the engine, so every layer can build on it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# The canonical fields sets of each class: the first few distinct ones seen (an event built in
# the engine and the same event read back from a log are given different fields).
_CANONICAL: dict[type[BaseModel], list[set[str]]] = {}
SHAPES_PER_CLASS = 4


class CompactModel(BaseModel):
    """A frozen model whose instances share their fields set (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    def model_post_init(self, context: Any, /) -> None:
        share_fields_set(self)


def share_fields_set(model: BaseModel) -> None:
    """Let ``model`` (frozen) use an equal canonical fields set of its class."""
    if not model.model_config.get("frozen"):
        return  # assignment would add to a set other instances share
    own = model.__pydantic_fields_set__
    shapes = _CANONICAL.setdefault(type(model), [])
    for shared in shapes:
        if shared == own:
            if shared is not own:
                object.__setattr__(model, "__pydantic_fields_set__", shared)
            return
    if len(shapes) < SHAPES_PER_CLASS:
        shapes.append(own)
