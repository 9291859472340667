import pytest
from pydantic import ValidationError

from engine.sim.schemas import Action, Beat, CommitmentScore, Emotions, MemoryAppraisals


def test_commitment_range_is_enforced() -> None:
    ok = {
        "satisfaction": 5,
        "quality_of_alternatives": 3,
        "investment": 7,
        "commitment": 6,
        "reasoning": "r",
    }
    assert CommitmentScore.model_validate(ok).commitment == 6
    with pytest.raises(ValidationError):
        CommitmentScore.model_validate({**ok, "commitment": 11})
    with pytest.raises(ValidationError):
        CommitmentScore.model_validate({**ok, "reasoning": ""})


def test_emotions_are_zero_to_one() -> None:
    with pytest.raises(ValidationError):
        Emotions.model_validate({**Emotions.neutral().model_dump(), "anger": 1.5})


def test_beat_actor_is_validated_against_the_two_partners() -> None:
    ctx = {"actors": {"a": "A", "b": "B", "alice": "A", "bob": "B"}}
    assert (
        Beat.model_validate({"narration": "n", "next_actor": "Bob"}, context=ctx).next_actor == "B"
    )
    assert Beat.model_validate({"narration": "n", "next_actor": "a"}, context=ctx).next_actor == "A"
    with pytest.raises(ValidationError, match="next_actor"):
        Beat.model_validate({"narration": "n", "next_actor": "3f2b9c1e-uuid"}, context=ctx)


def test_action_choice_must_be_an_offered_option() -> None:
    data = {"choice": 4, "inner_thoughts": "t", "line": "l", "behaviour": "b"}
    assert Action.model_validate(data, context={"option_count": 4}).choice == 4
    with pytest.raises(ValidationError, match="choice"):
        Action.model_validate(data, context={"option_count": 3})


def test_memory_appraisals_cover_the_batch() -> None:
    item = {"emotions": Emotions.neutral().model_dump()}
    good = {"appraisals": [{"index": 0, **item}, {"index": 1, **item}]}
    MemoryAppraisals.model_validate(good, context={"memory_count": 2})
    with pytest.raises(ValidationError):
        MemoryAppraisals.model_validate(good, context={"memory_count": 3})
