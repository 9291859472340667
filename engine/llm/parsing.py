"""Tolerant extraction of a JSON object from model text."""

from __future__ import annotations

import re
from typing import Any

import json_repair
import orjson

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


class ParseError(ValueError):
    """The text holds no JSON object we can recover."""


def extract_json(text: str) -> dict[str, Any]:
    """Return the JSON object in ``text``: plain, fenced, wrapped in prose or ``<think>`` blocks,
    or slightly broken (trailing commas, single quotes). Raises ParseError otherwise."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass
        else:
            return _require_object(value)
    candidate = _candidate(stripped)
    if candidate is None:
        raise ParseError("no JSON object found in the reply")
    try:
        return _require_object(orjson.loads(candidate))
    except orjson.JSONDecodeError:
        pass
    repaired = json_repair.loads(candidate)
    if not isinstance(repaired, dict) or not repaired:
        raise ParseError("reply is not a valid JSON object")
    return repaired


def _candidate(text: str) -> str | None:
    text = _THINK.sub("", text)
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start = text.find("{")
    if start < 0:
        return None
    end = text.rfind("}")
    # A missing closing brace is left for the repairer (it may be a truncated reply).
    return text[start : end + 1] if end > start else text[start:]


def _require_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"expected a JSON object, got {type(value).__name__}")
    return value
