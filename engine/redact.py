"""The one place secrets are scrubbed from strings relsim writes: events, manifest, logs,
exception messages, the terminal and the dashboard.

Every configured secret value is registered here (``register``: API keys as they are read,
credentials found in base URLs, key-like environment variables), and ``scrub`` replaces them,
plus the generic forms ``Bearer <token>`` and ``api_key=<value>``, with ``[redacted]``.
This module imports nothing from the engine, so every layer (engine/llm included) may use it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

REDACTED = "[redacted]"
# Shorter values are too likely to be ordinary words to replace everywhere.
MIN_SECRET_LEN = 6
ENV_SECRET = re.compile(r"(?:^|_)(?:API_?KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
_URL_SECRET = re.compile(r"key|token|secret|password|auth|sig", re.IGNORECASE)
_GENERIC = (
    r"(?i:bearer)\s+[A-Za-z0-9._~+/=-]{4,}"
    r"|(?i:(?:api[_-]?key|access[_-]?token|token|secret|password)\s*[=:]\s*)"
    r"(?!\[redacted\])[\"']?[^\s\"'\\&,;}]{4,}"
)

# A cheap test that a text could hold a generic form (a superset of _GENERIC, on lowered text):
# most texts (every event line of a run) have none, and the full pattern, case-insensitive at
# every position, costs ~10× more than this on a long line.
_HINT = r"bearer|api.?key|access.?token|token\s*[=:]|secret\s*[=:]|password\s*[=:]"
_hint = re.compile(_HINT)
_bhint = re.compile(_HINT.encode())

_lock = threading.Lock()
_secrets: set[str] = set()
_ssecrets: tuple[str, ...] = ()  # snapshots of _secrets, read without the lock
_bsecrets: tuple[bytes, ...] = ()
_pattern: re.Pattern[str] = re.compile(_GENERIC)
_bpattern: re.Pattern[bytes] = re.compile(_GENERIC.encode())


def _rebuild() -> None:
    global _pattern, _bpattern, _ssecrets, _bsecrets
    values = sorted(_secrets, key=len, reverse=True)  # the longest first: no partial leftovers
    _ssecrets = tuple(values)
    _bsecrets = tuple(v.encode("utf-8") for v in values)
    alternatives = [re.escape(v) for v in values] + [_GENERIC]
    source = "|".join(f"(?:{a})" for a in alternatives)
    _pattern = re.compile(source)
    _bpattern = re.compile(source.encode("utf-8"))


def register(value: str | None) -> None:
    """Scrub ``value`` from everything written from now on."""
    if not value or len(value) < MIN_SECRET_LEN:
        return
    with _lock:
        if value not in _secrets:
            _secrets.add(value)
            _rebuild()


def register_url(url: str | None) -> None:
    """Register a URL's password and any key-like query parameter values."""
    for part in (url or "").split(","):
        parts = urlsplit(part.strip())
        register(parts.password)
        for name, value in parse_qsl(parts.query, keep_blank_values=False):
            if _URL_SECRET.search(name):
                register(value)


def register_env(environ: Iterable[tuple[str, str]] | None = None) -> None:
    """Register the values of key-like environment variables (``*_API_KEY``, ``*_TOKEN``…)."""
    for name, value in (os.environ.items() if environ is None else environ):
        if ENV_SECRET.search(name):
            register(value)


def _replace(match: re.Match[str]) -> str:
    text = match.group()
    # Keep the field name of ``api_key=…`` / ``Bearer …`` so the message still reads well.
    head = re.match(r"(?i)(bearer\s+|[a-z_-]*\s*[=:]\s*[\"']?)", text)
    if head and head.group() != text and text not in _secrets:
        return head.group() + REDACTED
    return REDACTED


def scrub(text: str) -> str:
    """``text`` with every registered secret and Bearer/api_key form replaced."""
    if not text:
        return text
    if not _hint.search(text.lower()) and not any(s in text for s in _ssecrets):
        return text
    return _pattern.sub(_replace, text)


def scrub_bytes(data: bytes) -> bytes:
    """``scrub`` for UTF-8 bytes (a JSON line, a manifest); unchanged bytes are returned as is."""
    if not _bhint.search(data.lower()) and not any(s in data for s in _bsecrets):
        return data
    if not _bpattern.search(data):
        return data
    return scrub(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


class ScrubFilter(logging.Filter):
    """Scrubs each record's message (arguments merged in) before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
