"""Exception types shared by the engine. Messages never contain secrets."""

from __future__ import annotations


class RelsimError(Exception):
    """Base class for every error relsim raises on purpose."""


class ConfigError(RelsimError):
    """Bad user input: an unknown model, a malformed persona file, an out-of-range option."""


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
