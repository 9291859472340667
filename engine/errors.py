"""Exception types shared by the engine. Messages never contain secrets."""

from __future__ import annotations

from engine.redact import scrub


class RelsimError(Exception):
    """Base class for every error relsim raises on purpose. String arguments are scrubbed of
    secrets (``engine.redact``) as the error is made."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


class StorageError(RelsimError):
    """relsim could not write its run log, manifest or an output file (disk full, I/O)."""


class ConfigError(RelsimError, ValueError):
    """Bad user input: an unknown model, a malformed persona file, an out-of-range option."""


class RunDataError(ConfigError):
    """A run directory is missing, unreadable or corrupt (manifest, event log)."""


class PersonaError(ConfigError):
    """A persona could not be found or loaded."""


class LLMError(RelsimError):
    """A model call could not produce a usable answer."""


class StructuredOutputError(LLMError):
    """A critical structured call failed validation on every attempt."""

    def __init__(self, purpose: str, attempts: int, last_error: str, raw_response: str) -> None:
        self.purpose = purpose
        self.attempts = attempts
        self.last_error = last_error
        self.raw_response = raw_response
        super().__init__(
            f"{purpose}: model output was unusable after {attempts} attempts: {last_error}"
        )


class SyncInAsyncError(RelsimError, RuntimeError):
    """A sync wrapper was called while an event loop is running."""


class EndpointError(LLMError):
    """A model endpoint kept failing (rate limits or transient errors) after every retry."""


class EndpointDownError(EndpointError):
    """An endpoint stayed down past the outage deadline (``outage_timeout``): the waiting
    simulation fails with "endpoint … down since HH:MM:SS" rather than wait forever."""


class EndpointFatalError(LLMError):
    """An endpoint refused the configuration itself (bad key, unknown model, rejected schema).

    Retrying cannot help and every other simulation on the endpoint would fail the same way, so
    the batch runner stops the whole batch on this error. The message never contains a key."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint


class EndpointUnsupportedError(EndpointFatalError):
    """The endpoint lacks a feature (HTTP 501, a 404 on a route, "does not support"): e.g. a
    llama.cpp server started without ``--embeddings``. Fatal for a call that needs it; a caller
    with an alternative (the hashing embedder) catches it."""


class CacheMissError(LLMError):
    """Replay-only mode met a request that was never recorded."""
