"""Model strings and endpoint settings for OpenAI-compatible providers.

``provider/model`` (``openai/gpt-4o-mini``, ``ollama/llama3.1``, ``vllm/Qwen/Qwen3-32B``,
``llamacpp/local``, ``openai-compatible/<model>``) plus a base URL (several, comma-separated, for
replicas of one model) and a key from the environment. The key is held in a ``Secret`` whose
``repr``/``str`` never show it, so settings can be logged, shown and put into events safely.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit, urlunsplit

from engine import redact
from engine.errors import ConfigError

if TYPE_CHECKING:
    import httpx

StructuredMode = Literal["json_schema", "json_object", "prompt"]
CacheMode = Literal["off", "read-write", "replay-only"]
HttpClientName = Literal["pyreqwest", "httpx"]

PROVIDERS = ("openai", "ollama", "vllm", "llamacpp", "openai-compatible")
DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "ollama": "http://localhost:11434/v1",
    "vllm": "http://localhost:8000/v1",
    "llamacpp": "http://localhost:8080/v1",
}
# Ollama's /v1 accepts JSON mode reliably; the others do schema-constrained decoding.
DEFAULT_STRUCTURED: dict[str, StructuredMode] = {"ollama": "json_object"}
# Embeddings with a chat model's name fail on OpenAI; other servers are probed with the chat
# model and fall back to the hashing embedder when they cannot embed.
DEFAULT_EMBED_MODELS: dict[str, str] = {"openai": "text-embedding-3-small"}
LOCAL_EMBED = "local"
STRUCTURED_MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object", "prompt")
CACHE_MODES: tuple[CacheMode, ...] = ("off", "read-write", "replay-only")
# The HTTP client libraries (engine/llm/http); pyreqwest, the first, is the default.
HTTP_CLIENTS: tuple[HttpClientName, ...] = ("pyreqwest", "httpx")


class Secret:
    """A credential. Only ``reveal()`` gives the value; every other view is masked."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        redact.register(value)  # scrubbed from everything relsim writes from now on

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:  # never pickled into a file by accident
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True, slots=True)
class Limits:
    """Admission settings for each replica: how many HTTP requests may be in flight at once
    (``max_in_flight`` to start; it then adapts between ``min`` and ``max``) and optional rate
    buckets. Not to be confused with a batch's ``concurrency``: simulations in flight."""

    max_in_flight: int = 16
    min: int = 1
    max: int = 256
    rpm: float | None = None
    tpm: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.min <= self.max_in_flight <= self.max:
            raise ConfigError(
                f"in-flight limits must satisfy 1 <= min <= max_in_flight <= max, got "
                f"min={self.min} max_in_flight={self.max_in_flight} max={self.max}"
            )
        for name in ("rpm", "tpm"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be positive, got {value}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transport retries: how many, full-jitter exponential backoff bounds, and the timeouts.

    Three timeouts: ``connect_timeout_s`` to open a connection, ``first_byte_timeout_s`` from
    sending a request to the first byte of its reply (and between bytes after that), and
    ``timeout_s`` for the whole reply. Since an endpoint is never sent more calls than it serves
    at once (its slots, or the adapted limit), a request does not wait in the server's queue:
    the clock runs while the server works on it, bounded by the call's output budget."""

    max_retries: int = 6
    base_s: float = 0.25
    cap_s: float = 20.0
    timeout_s: float = 120.0
    connect_timeout_s: float = 10.0
    # None: the whole-reply timeout (a non-streamed reply's first byte comes with its end).
    first_byte_timeout_s: float | None = None
    # A hint longer than this is treated as "the endpoint is down" (the breaker parks calls).
    max_hint_s: float = 300.0


@dataclass(frozen=True, slots=True)
class EndpointSettings:
    provider: str
    model: str
    base_urls: tuple[str, ...]
    api_key: Secret | None = field(default=None)
    structured: StructuredMode = "json_schema"
    limits: Limits = field(default_factory=Limits)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache_mode: CacheMode = "off"
    cache_dir: str | None = None
    http_client: HttpClientName = "pyreqwest"
    # The embeddings model: None picks a default (see ``embed_model_for``), "local" the
    # built-in hashing embedder, any other name that model on this endpoint.
    embed_model: str | None = None
    # A user's own client (proxies, custom TLS) when http_client is "httpx": a live object, so
    # it takes no part in comparing or showing settings.
    httpx_client: httpx.AsyncClient | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.http_client not in HTTP_CLIENTS:
            raise ConfigError(
                f"http_client must be one of {', '.join(HTTP_CLIENTS)}, got {self.http_client!r}"
            )
        if self.httpx_client is not None and self.http_client != "httpx":
            raise ConfigError("an httpx.AsyncClient needs http_client='httpx'")

    @property
    def model_string(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def embed_default(self) -> bool:
        """True when no embeddings model was chosen: relsim may fall back to hashing."""
        return self.embed_model is None

    @property
    def embed_name(self) -> str:
        """The embeddings model to ask for ("local": none, hash in-process)."""
        if self.embed_model:
            return self.embed_model
        return DEFAULT_EMBED_MODELS.get(self.provider, self.model)

    @property
    def endpoint(self) -> str:
        """A display name for the endpoint (no secrets: URLs lose any user:password part)."""
        return ",".join(self.base_urls)


def _clean_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"base URL '{_redact(url)}' is not an http(s) URL")
    if parts.username or parts.password:
        raise ConfigError(
            "put the API key in OPENAI_API_KEY or RELSIM_API_KEY, not in the base URL"
        )
    return urlunsplit(parts)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password or parts.username:
        host = parts.hostname or ""
        return urlunsplit(parts._replace(netloc=f"***@{host}"))
    return url


def _number(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


_warned_concurrency = False


def _max_in_flight(env: Mapping[str, str]) -> float | None:
    """``RELSIM_MAX_IN_FLIGHT``; the old name ``RELSIM_CONCURRENCY`` still works, with a warning
    (it read like a batch's ``concurrency``, which counts simulations, not HTTP requests)."""
    value = _number(env, "RELSIM_MAX_IN_FLIGHT")
    if value is None and env.get("RELSIM_CONCURRENCY"):
        global _warned_concurrency
        if not _warned_concurrency:
            _warned_concurrency = True
            warnings.warn(
                "RELSIM_CONCURRENCY is deprecated: use RELSIM_MAX_IN_FLIGHT "
                "(HTTP requests in flight per endpoint)",
                FutureWarning,
                stacklevel=3,
            )
        value = _number(env, "RELSIM_CONCURRENCY")
    return value


def parse_model(
    spec: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    structured: str | None = None,
    limits: Limits | None = None,
    retry: RetryPolicy | None = None,
    cache_mode: str | None = None,
    cache_dir: str | None = None,
    http_client: str | httpx.AsyncClient | None = None,
    embed_model: str | None = None,
    env: Mapping[str, str] | None = None,
) -> EndpointSettings:
    """Settings for a ``provider/model`` string; arguments win over the environment.

    ``http_client`` names the HTTP library (``pyreqwest``, the default, or ``httpx``; else
    ``RELSIM_HTTP_CLIENT``) or is an ``httpx.AsyncClient`` of one's own to send through.
    ``embed_model`` (else ``RELSIM_EMBED_MODEL``) names the embeddings model; "local" hashes."""
    env = os.environ if env is None else env
    provider, sep, model = spec.strip().partition("/")
    if not sep or not model:
        raise ConfigError(f"model '{spec}' needs the form provider/model, e.g. openai/gpt-4o-mini")
    if provider not in PROVIDERS:
        raise ConfigError(
            f"unknown model provider '{provider}': use sim or one of {', '.join(PROVIDERS)}"
        )
    urls = base_url or env.get("RELSIM_BASE_URL") or DEFAULT_BASE_URLS.get(provider)
    redact.register_url(urls)
    if not urls:
        raise ConfigError(f"model '{spec}' needs --base-url (or RELSIM_BASE_URL)")
    base_urls = tuple(dict.fromkeys(_clean_url(u) for u in urls.split(",") if u.strip()))
    if not base_urls:
        raise ConfigError("--base-url is empty")
    key = api_key or env.get("RELSIM_API_KEY") or env.get("OPENAI_API_KEY")
    if not key and provider == "openai" and base_urls == (_clean_url(DEFAULT_BASE_URLS["openai"]),):
        # OpenAI itself always wants a key: say so now, not after a 401 mid-batch.
        raise ConfigError(f"model '{spec}' needs an API key: set OPENAI_API_KEY or RELSIM_API_KEY")
    mode = (
        structured
        or env.get("RELSIM_STRUCTURED")
        or DEFAULT_STRUCTURED.get(provider, "json_schema")
    )
    if mode not in STRUCTURED_MODES:
        raise ConfigError(f"structured output mode must be one of {', '.join(STRUCTURED_MODES)}")
    cmode = cache_mode or env.get("RELSIM_CACHE") or "off"
    if cmode not in CACHE_MODES:
        raise ConfigError(f"cache mode must be one of {', '.join(CACHE_MODES)}")
    if limits is None:
        rpm, tpm = _number(env, "RELSIM_RPM"), _number(env, "RELSIM_TPM")
        start = _max_in_flight(env)
        limits = Limits(
            max_in_flight=int(start) if start else 16, max=max(256, int(start or 0)),
            rpm=rpm, tpm=tpm,
        )
    http_name, own_client = _http_client(http_client, env)
    return EndpointSettings(
        provider=provider,
        model=model,
        base_urls=base_urls,
        api_key=Secret(key) if key else None,
        structured=mode,  # type: ignore[arg-type]
        limits=limits,
        retry=retry or RetryPolicy(),
        cache_mode=cmode,  # type: ignore[arg-type]
        cache_dir=cache_dir or env.get("RELSIM_CACHE_DIR"),
        http_client=http_name,
        embed_model=(embed_model or env.get("RELSIM_EMBED_MODEL") or "").strip() or None,
        httpx_client=own_client,
    )


def _http_client(
    choice: str | httpx.AsyncClient | None, env: Mapping[str, str]
) -> tuple[HttpClientName, httpx.AsyncClient | None]:
    """The HTTP library and any client of the user's own, from the argument or
    RELSIM_HTTP_CLIENT."""
    if choice is None or isinstance(choice, str):
        name = choice or env.get("RELSIM_HTTP_CLIENT") or HTTP_CLIENTS[0]
        if name not in HTTP_CLIENTS:
            source = "http_client" if choice else "RELSIM_HTTP_CLIENT"
            raise ConfigError(
                f"{source} must be one of {', '.join(HTTP_CLIENTS)}, got {name!r}"
            )
        return name, None  # type: ignore[return-value]  # checked against HTTP_CLIENTS
    import httpx  # only when a client object is passed: it can only be an httpx one

    if not isinstance(choice, httpx.AsyncClient):
        raise TypeError(
            f"http_client must be a name ({', '.join(HTTP_CLIENTS)}) or an httpx.AsyncClient, "
            f"got {type(choice).__name__}"
        )
    return "httpx", choice
