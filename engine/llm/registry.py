"""Model strings → providers. ``sim`` (the default) is the built-in simulator; ``openai/…``,
``ollama/…``, ``vllm/…``, ``llamacpp/…`` and ``openai-compatible/…`` are HTTP endpoints."""

from __future__ import annotations

import os
from typing import Any

from engine.errors import ConfigError
from engine.llm.settings import PROVIDERS, EndpointSettings, parse_model
from engine.llm.sim_provider import SimProvider, sim_options
from engine.llm.types import Provider

DEFAULT_MODEL = "sim"
# One provider per (model, base URL): simulations on one endpoint share its admission control.
_shared: dict[tuple[str, str | None], Provider] = {}


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
    check_model(spec, base_url)
    if spec == "sim" and sim:
        return sim_options(sim)
    cached = _shared.get((spec, base_url))
    if cached is not None:
        return cached
    if spec == "sim":
        provider: Provider = SimProvider()
    else:
        provider = build_provider(parse_model(spec, base_url=base_url))
    _shared[(spec, base_url)] = provider
    return provider


def check_model(model: str, base_url: str | None = None) -> None:
    """Raise ConfigError if ``model`` (with ``base_url``) could not be used; builds nothing."""
    spec = model.strip()
    if spec == "sim":
        if base_url:
            raise ConfigError("--base-url does not apply to the built-in simulator 'sim'")
    elif spec.split("/", 1)[0] in PROVIDERS:
        parse_model(spec, base_url=base_url)
    else:
        raise ConfigError(
            f"unknown model '{spec}': use 'sim' (the built-in simulator) or provider/model "
            f"with provider one of {', '.join(PROVIDERS)}"
        )


def build_provider(settings: EndpointSettings) -> Provider:
    """The HTTP provider for ``settings``, behind the replay cache when one is configured."""
    from engine.llm.cache import CachedProvider, ReplayCache
    from engine.llm.openai_provider import OpenAIProvider
    from engine.llm.pricing import prices_from_env

    provider: Provider = OpenAIProvider(settings, prices_from_env())
    if settings.cache_mode != "off":
        if not settings.cache_dir:
            raise ConfigError("the replay cache needs a directory (RELSIM_CACHE_DIR)")
        cache = ReplayCache(settings.cache_dir, settings.cache_mode)
        provider = CachedProvider(provider, cache, settings.endpoint)
    return provider
