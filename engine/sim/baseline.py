"""The personas-only baseline (RELATE-Sim's comparison): one structured call per couple that
predicts the outcome from the two persona profiles alone, without simulating."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.llm.caller import call_structured
from engine.llm.types import Provider
from engine.sim import prompts

PURPOSE = "personas_baseline"


class OutcomeGuess(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    predicted_outcome: Literal["together", "separated"]
    probability_together: Annotated[float, Field(ge=0.0, le=1.0)]
    commitment: Annotated[int, Field(ge=0, le=10)]
    reasoning: Annotated[str, Field(min_length=1, max_length=4000)]


async def predict_from_personas(
    provider: Provider, profile_a: dict[str, Any], profile_b: dict[str, Any]
) -> OutcomeGuess:
    """Raises StructuredOutputError when the model never gives a valid reply (no fallback: a
    made-up guess would bias the comparison)."""
    context = {"persona_a": profile_a, "persona_b": profile_b}
    messages = prompts.render(PURPOSE, context, a=str(profile_a.get("name", "A")),
                              b=str(profile_b.get("name", "B")))
    result = await call_structured(provider, messages, OutcomeGuess, purpose=PURPOSE,
                                   context=context, temperature=0.0)
    return result.value


def simulated_guess(ctx: dict[str, Any], rng: Any) -> dict[str, Any]:
    """The built-in simulator's answer: the pair's latent fit, read from the profiles only."""
    from engine.sim.traits import compatibility, traits_of

    fit = compatibility(traits_of(ctx["persona_a"]), traits_of(ctx["persona_b"]))
    p = max(0.0, min(1.0, 0.2 + 0.7 * fit + rng.uniform(-0.1, 0.1)))
    return {
        "predicted_outcome": "together" if p >= 0.5 else "separated",
        "probability_together": round(p, 3),
        "commitment": int(max(0, min(10, round(10 * p)))),
        "reasoning": "Estimated from the two profiles' traits and attachment styles alone.",
    }
