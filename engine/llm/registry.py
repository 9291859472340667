"""Model strings → providers. ``sim`` (the default) is the built-in simulator."""

from __future__ import annotations

import os

from engine.errors import ConfigError
from typing import Any

from engine.llm.sim_provider import SimProvider, sim_options
from engine.llm.types import Provider

DEFAULT_MODEL = "sim"
_shared: dict[str, Provider] = {}


def default_model() -> str:
    return os.environ.get("RELSIM_MODEL") or DEFAULT_MODEL


def resolve_model(
    model: str | Provider | None = None,
    *,
    base_url: str | None = None,
    sim: dict[str, Any] | None = None,
) -> Provider:
    """A provider for ``model``: a provider passes through; strings name one (see the README).

    ``sim`` holds simulator options (latency, fault rates) and gives a fresh, unshared provider.
    """
    if model is not None and not isinstance(model, str):
        return model
    spec = (model or default_model()).strip()
    if spec == "sim" and base_url:
        raise ConfigError("--base-url does not apply to the built-in simulator 'sim'")
    if spec == "sim" and sim:
        return sim_options(sim)
    cached = _shared.get(spec)
    if cached is not None:
        return cached
    if spec == "sim":
        provider: Provider = SimProvider()
    else:
        raise ConfigError(f"unknown model '{spec}': use 'sim' (the built-in simulator)")
    _shared[spec] = provider
    return provider
