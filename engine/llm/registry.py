"""Model strings → providers. ``openai/…``, ``ollama/…``, ``vllm/…``, ``llamacpp/…`` and
``openai-compatible/…`` are HTTP endpoints built here; ``sim`` (the default) is the built-in
simulator, which lives with the simulation domain and registers itself here as a local model
(``register_local_model``), so this layer never imports the domain above it: its module is
named in ``LOCAL_MODEL_MODULES`` and imported on the first lookup of a model."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigError
from engine.llm.settings import PROVIDERS, EndpointSettings, parse_model
from engine.llm.types import Provider

DEFAULT_MODEL = "sim"

# Builds a local model's provider; given options (e.g. the simulator's latency and fault rates)
# it returns a fresh provider, without them the shared one.
LocalFactory = Callable[[Mapping[str, Any] | None], Provider]


@dataclass(frozen=True, slots=True)
class LocalModel:
    """A model served in-process (no base URL), named by a bare word such as ``sim``."""

    factory: LocalFactory
    description: str


_local: dict[str, LocalModel] = {}
# Modules that register local models when imported. By name and on first lookup, not at import:
# most commands (analyze, runs, --help) never resolve a model and need not load the simulator.
LOCAL_MODEL_MODULES = ["engine.sim.provider"]
# One provider per (model, base URL): simulations on one endpoint share its admission control.
_shared: dict[tuple[str, str | None, str | None], Provider] = {}


def register_local_model(name: str, factory: LocalFactory, *, description: str) -> None:
    """Make ``name`` resolve to ``factory``'s provider (the simulator registers ``sim``)."""
    _local[name] = LocalModel(factory, description)


def _local_model(name: str) -> LocalModel | None:
    while LOCAL_MODEL_MODULES:
        importlib.import_module(LOCAL_MODEL_MODULES[0])
        LOCAL_MODEL_MODULES.pop(0)
    return _local.get(name)


def default_model() -> str:
    return os.environ.get("RELSIM_MODEL") or DEFAULT_MODEL


def resolve_model(
    model: str | Provider | None = None,
    *,
    base_url: str | None = None,
    sim: Mapping[str, Any] | None = None,
    embed_model: str | None = None,
) -> Provider:
    """A provider for ``model``: a provider passes through; strings name one (see the README).

    ``sim`` holds a local model's options (the simulator's latency and fault rates) and gives a
    fresh, unshared provider. ``embed_model`` names the embeddings model (else
    ``RELSIM_EMBED_MODEL``, else the provider's default; "local" hashes in-process).
    """
    if model is not None and not isinstance(model, str):
        return model
    spec = (model or default_model()).strip()
    check_model(spec, base_url)
    local = _local_model(spec)
    if local is not None and sim:
        return local.factory(sim)
    key = (spec, base_url, embed_model)
    cached = _shared.get(key)
    if cached is not None:
        return cached
    if local is not None:
        provider = local.factory(None)
    else:
        provider = build_provider(parse_model(spec, base_url=base_url, embed_model=embed_model))
    _shared[key] = provider
    return provider


def check_model(model: str, base_url: str | None = None) -> None:
    """Raise ConfigError if ``model`` (with ``base_url``) could not be used; builds nothing."""
    spec = model.strip()
    local = _local_model(spec)
    if local is not None:
        if base_url:
            raise ConfigError(f"--base-url does not apply to {local.description} '{spec}'")
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
