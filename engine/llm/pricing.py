"""Optional per-model prices: cost of token usage in USD.

A table maps a model name (as sent to the endpoint) to USD per million prompt and completion
tokens; load it from a TOML file (``RELSIM_PRICES``) shaped like::

    ["gpt-4o-mini"]
    prompt = 0.15
    completion = 0.60
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass

from engine.errors import ConfigError
from engine.llm.types import Usage


@dataclass(frozen=True, slots=True)
class Price:
    prompt_per_mtok: float
    completion_per_mtok: float


@dataclass(frozen=True, slots=True)
class PriceTable:
    prices: dict[str, Price]

    def cost(self, model: str, usage: Usage) -> float:
        price = self.prices.get(model)
        if price is None:
            return 0.0
        return (usage.prompt_tokens * price.prompt_per_mtok
                + usage.completion_tokens * price.completion_per_mtok) / 1e6

    @classmethod
    def load(cls, path: str) -> PriceTable:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
            return cls({name: Price(float(v["prompt"]), float(v["completion"]))
                        for name, v in data.items()})
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"price table {path}: {exc}") from None


def prices_from_env() -> PriceTable | None:
    path = os.environ.get("RELSIM_PRICES")
    return PriceTable.load(path) if path else None
