"""Extraction of one JSON object from model text, telling benign repairs from content changes.

Benign repairs leave the model's content as it wrote it and are accepted (and counted):
a ``<think>`` block or code fence around the object, prose around exactly one complete object,
trailing commas, quoting slips that json-repair mends without dropping a word. Repairs that
would change the content — closing an unterminated string or object (a reply cut off without
``finish_reason: length``), dropping text the parser cannot place — are refused with
``ParseError``, so the caller re-asks with a retry warning instead of accepting a fabrication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import json_repair
import orjson

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_WORD = re.compile(r"\w+")
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)")
_LITERALS = frozenset({"true", "false", "null", "True", "False", "None"})

# Benign repair kinds, as counted per run.
THINK, FENCE, PROSE, TRAILING_COMMA, SYNTAX = "think", "fence", "prose", "trailing_comma", "syntax"


class ParseError(ValueError):
    """The text holds no JSON object we can use as it was written."""


@dataclass(slots=True)
class Parsed:
    value: dict[str, Any]
    repairs: list[str] = field(default_factory=list)


def extract_json(text: str) -> dict[str, Any]:
    """The JSON object in ``text`` (see ``parse_reply``); raises ParseError."""
    return parse_reply(text).value


def parse_reply(text: str) -> Parsed:
    """The one JSON object in ``text`` and the benign repairs it needed. Raises ParseError for
    text without an object, with more than one, or one that only a content-changing repair
    (closing a cut-off string or object, dropping words) would make valid."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass
        else:
            return Parsed(_require_object(value))
    repairs: list[str] = []
    body = _THINK.sub("", stripped)
    if body != stripped:
        repairs.append(THINK)
    fenced = _FENCE.search(body)
    if fenced:
        body = fenced.group(1)
        repairs.append(FENCE)
    start = body.find("{")
    if start < 0:
        raise ParseError("no JSON object found in the reply")
    end, trailing = _object_end(body, start)
    rest = body[end + 1 :]
    if "{" in rest:
        raise ParseError("the reply holds more than one JSON object")
    if body[:start].strip() or rest.strip():
        repairs.append(PROSE)
    candidate = body[start : end + 1]
    try:
        return Parsed(_require_object(orjson.loads(candidate)), repairs)
    except orjson.JSONDecodeError:
        pass
    if trailing:
        cleaned = "".join(ch for i, ch in enumerate(candidate, start) if i not in trailing)
        try:
            value = _require_object(orjson.loads(cleaned))
        except orjson.JSONDecodeError:
            pass
        else:
            return Parsed(value, [*repairs, TRAILING_COMMA])
    repaired = json_repair.loads(candidate)
    if not isinstance(repaired, dict) or not repaired:
        raise ParseError("reply is not a valid JSON object")
    lost = _words(candidate) - _words_of(repaired)
    if lost:
        dropped = ", ".join(sorted(lost)[:3])
        raise ParseError(f"the JSON could only be read by dropping text ({dropped})")
    return Parsed(repaired, [*repairs, SYNTAX])


def _object_end(text: str, start: int) -> tuple[int, set[int]]:
    """Index of the brace closing the object at ``start``, and the positions of trailing
    commas in it. Raises ParseError when the object (or a string in it) never closes."""
    depth = 0
    in_string = False
    escaped = False
    last_comma = -1
    trailing: set[int] = set()
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
            last_comma = -1
        elif ch in "{[":
            depth += 1
            last_comma = -1
        elif ch in "}]":
            if last_comma >= 0:
                trailing.add(last_comma)
            last_comma = -1
            depth -= 1
            if depth == 0:
                return i, trailing
        elif ch == ",":
            last_comma = i
        elif not ch.isspace():
            last_comma = -1
    what = "a string" if in_string else "the JSON object"
    raise ParseError(f"the reply was cut off: {what} is not closed")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(_ESCAPE.sub(" ", text))) - _LITERALS


def _words_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        out: set[str] = set()
        for k, v in value.items():
            out |= _words_of(k) | _words_of(v)
        return out
    if isinstance(value, list):
        return set().union(*(_words_of(v) for v in value)) if value else set()
    if isinstance(value, str):
        return set(_WORD.findall(value))
    return set(_WORD.findall(str(value)))


def _require_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"expected a JSON object, got {type(value).__name__}")
    return value
