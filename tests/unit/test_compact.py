from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from engine.compact import CompactModel, share_fields_set
from engine.events import StateInferred
from engine.sim.schemas import Emotions, RelationshipState


class _Pair(CompactModel):
    a: int
    b: int = 0


def test_instances_built_with_the_same_fields_share_one_set() -> None:
    x, y = _Pair(a=1, b=2), _Pair.model_validate({"a": 3, "b": 4})
    z = _Pair.model_validate_json('{"a": 5, "b": 6}')
    assert x.__pydantic_fields_set__ is y.__pydantic_fields_set__ is z.__pydantic_fields_set__
    assert x.model_fields_set == {"a", "b"}


def test_instances_given_other_fields_share_a_set_of_their_own() -> None:
    full = _Pair(a=1, b=2)
    partial, other = _Pair(a=1), _Pair(a=2)
    assert partial.model_fields_set == {"a"}
    assert partial.__pydantic_fields_set__ is not full.__pydantic_fields_set__
    assert partial.__pydantic_fields_set__ is other.__pydantic_fields_set__
    # Equality and dumps never depended on the set.
    assert partial == _Pair(a=1, b=0)
    assert partial.model_dump() == {"a": 1, "b": 0}


def test_copies_and_refused_assignments_leave_the_shared_set_alone() -> None:
    class Partial(CompactModel):
        a: int
        b: int = 0

    x, y = Partial(a=1), Partial(a=2)
    assert x.__pydantic_fields_set__ is y.__pydantic_fields_set__
    copy = x.model_copy(update={"b": 5})
    assert copy.model_fields_set == {"a", "b"}
    assert x.model_fields_set == y.model_fields_set == {"a"}
    with pytest.raises(ValidationError):
        x.b = 3  # type: ignore[misc]
    assert y.model_fields_set == {"a"}


def test_mutable_models_are_left_alone() -> None:
    class Mutable(BaseModel):
        a: int

    first, second = Mutable(a=1), Mutable(a=2)
    share_fields_set(first)
    share_fields_set(second)
    second.a = 3
    assert first.__pydantic_fields_set__ is not second.__pydantic_fields_set__


def test_simulation_models_and_events_share_theirs() -> None:
    states = [RelationshipState.model_validate(RelationshipState.unknown().model_dump())
              for _ in range(2)]
    assert states[0].__pydantic_fields_set__ is states[1].__pydantic_fields_set__
    assert states[0].conflict.__pydantic_fields_set__ is states[1].conflict.__pydantic_fields_set__
    calm, glad = (Emotions.model_validate(dict.fromkeys(Emotions.model_fields, v)) for v in (0, 1))
    assert calm.__pydantic_fields_set__ is glad.__pydantic_fields_set__
    # Built in the engine, or read back from a log with every field: each kind shares its own.
    built = [StateInferred(sim_id=s, scene_index=0, state={}) for s in ("a", "b")]
    assert built[0].__pydantic_fields_set__ is built[1].__pydantic_fields_set__
    read = [StateInferred.model_validate_json(e.model_dump_json()) for e in built]
    assert read[0].__pydantic_fields_set__ is read[1].__pydantic_fields_set__
    assert read[0] == built[0] and read[0].model_fields_set != built[0].model_fields_set
