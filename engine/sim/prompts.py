"""Prompt templates: one file per call purpose in ``prompts/``, rendered with string.Template.

A rendered prompt is ordered for prefix caching (llama.cpp and vLLM prefix caches, OpenAI's
automatic prompt caching): the system message is one preamble per speaker (a partner, or the
Scene Master), the same for all of that speaker's calls; the user message starts with the call's
facts as a ``<context>`` JSON block, ordered stable-first (profiles, the scene) and changing-last
(transcript, the moment), and ends with the purpose's task (the template's ``[system]`` text)
and question (its ``[user]`` text). So an agent's successive calls, of any purpose, share the
preamble and the head of the facts. Real models read the block as structured facts, and the
built-in simulator served over HTTP reads it to write its reply.
"""

from __future__ import annotations

import hashlib
from functools import cache, lru_cache
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


# The speaker of each purpose's prompt; purposes not listed stand alone (their own task is
# the system message: intake, the personas-only baseline, a user's own calls).
PARTNER_PURPOSES = frozenset(
    {"appraisal", "action", "choices", "memory_appraisal", "reflection"}
)
SCENE_MASTER_PURPOSES = frozenset({
    "scene_setup", "perspective", "beat", "options", "summary", "state", "commitment",
    "transition", "scene_choice", "after_action_report",
})
PARTNER_PREAMBLE = Template(
    "You are $self, one of the two partners in a relationship simulation; $partner is the "
    "other. You think, feel and act as $self: your profile, synopsis, if-then rules, "
    "attachment style and history (in the context) shape every answer. Answer each request in "
    "character, with the JSON it asks for and nothing else."
)
SCENE_MASTER_PREAMBLE = Template(
    "You are the Scene Master of a relationship simulation between $a and $b: you stage "
    "turning points, narrate what can be seen and heard, frame choices, and observe and judge "
    "the relationship fairly. You never decide how the partners feel for them and never invent "
    "events. Answer each request with the JSON it asks for and nothing else."
)


@lru_cache(maxsize=4096)
def _preamble(template: Template, names: tuple[tuple[str, str], ...]) -> str:
    """A speaker's preamble for these names: one string shared by every call of every
    simulation of the couple, not a copy per call in flight."""
    return template.safe_substitute(dict(names))


def render(purpose: str, context: dict[str, Any], **names: str) -> list[Message]:
    system, user = _templates()[purpose]
    # The facts go straight into the message: no prompt-sized copy in between.
    facts = orjson.dumps(context).decode()
    task = system.safe_substitute(names)
    question = user.safe_substitute(names)
    if purpose in PARTNER_PURPOSES:
        preamble = _preamble(PARTNER_PREAMBLE, tuple(names.items()))
    elif purpose in SCENE_MASTER_PURPOSES:
        preamble = _preamble(SCENE_MASTER_PREAMBLE, tuple(names.items()))
    else:
        return [
            {"role": "system", "content": task},
            {"role": "user", "content": f"{CONTEXT_OPEN}{facts}{CONTEXT_CLOSE}\n\n{question}"},
        ]
    return [
        {"role": "system", "content": preamble},
        {
            "role": "user",
            "content": f"{CONTEXT_OPEN}{facts}{CONTEXT_CLOSE}\n\n{task}\n\n{question}",
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
