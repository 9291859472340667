"""Prompt templates: one file per call purpose in ``prompts/``, rendered with string.Template.

Every user message starts with the call's facts as a ``<context>`` JSON block and ends with the
question: real models read the block as structured facts, and the built-in simulator served over
HTTP reads it to write its reply.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from string import Template
from typing import Any

import orjson

from engine.llm.types import Message

CONTEXT_OPEN = "<context>\n"
CONTEXT_CLOSE = "\n</context>"


@cache
def _templates() -> dict[str, tuple[Template, Template]]:
    out: dict[str, tuple[Template, Template]] = {}
    folder = resources.files("engine.sim").joinpath("prompts")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".txt"):
            continue
        text = entry.read_text("utf-8")
        system, _, user = text.partition("[user]\n")
        out[entry.name[:-4]] = (
            Template(system.removeprefix("[system]\n").strip()),
            Template(user.strip()),
        )
    return out


@cache
def prompt_hash() -> str:
    """A short hash of every template, recorded with each run."""
    digest = hashlib.sha256()
    for name, (system, user) in sorted(_templates().items()):
        digest.update(f"{name}\0{system.template}\0{user.template}\0".encode())
    return digest.hexdigest()[:16]


def render(purpose: str, context: dict[str, Any], **names: str) -> list[Message]:
    system, user = _templates()[purpose]
    facts = orjson.dumps(context).decode()
    return [
        {"role": "system", "content": system.safe_substitute(names)},
        {
            "role": "user",
            # Facts first, the question last: with the facts ordered stable-first (persona, scene
            # opening) and changing-last (transcript, the moment), an agent's successive calls
            # share a long prefix that a serving engine's prefix cache can reuse.
            "content": f"{CONTEXT_OPEN}{facts}{CONTEXT_CLOSE}\n\n{user.safe_substitute(names)}",
        },
    ]


def context_from_messages(messages: list[Message]) -> dict[str, Any] | None:
    """The ``<context>`` facts of a rendered prompt, or None if it has none."""
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content") or ""
        start = content.rfind(CONTEXT_OPEN)
        if start < 0:
            continue
        end = content.find(CONTEXT_CLOSE, start)
        if end < 0:
            continue
        try:
            value = orjson.loads(content[start + len(CONTEXT_OPEN) : end])
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None
    return None
