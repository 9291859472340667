"""Personas: free text or TOML files (shipped, or a user directory: ``engine.sim.sources``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.configfile import describe, read_toml
from engine.errors import PersonaError
from engine.sim.sources import locate, persona_file, persona_files, sources

SYNOPSIS_WORDS = (200, 300)
RULES_COUNT = (5, 7)
_SECOND_PERSON = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)
_RULE = re.compile(r"^If\s+\S.*?,\s*I\b\S*\s+\S", re.DOTALL)


def check_synopsis(text: str) -> str:
    """``text`` if it is a 200–300-word synopsis in the second person, else ValueError."""
    words = len(text.split())
    low, high = SYNOPSIS_WORDS
    if not low <= words <= high:
        raise ValueError(f"must be {low}-{high} words, got {words}")
    # A second-person portrait says "you" throughout; a few stray ones do not make it so.
    if len(_SECOND_PERSON.findall(text)) < 5:
        raise ValueError("must be written in the second person ('You …')")
    return text


def check_rules(rules: list[str]) -> list[str]:
    """``rules`` if empty or 5–7 rules of the form "If …, I …", else ValueError."""
    if not rules:
        return rules
    low, high = RULES_COUNT
    if not low <= len(rules) <= high:
        raise ValueError(f"give {low}-{high} rules, got {len(rules)}")
    for number, rule in enumerate(rules, 1):
        if not _RULE.match(rule.strip()):
            raise ValueError(f"rule {number} must read 'If …, I …': {rule[:60]!r}")
    return rules


class BigFive(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    openness: float = Field(ge=0, le=1)
    conscientiousness: float = Field(ge=0, le=1)
    extraversion: float = Field(ge=0, le=1)
    agreeableness: float = Field(ge=0, le=1)
    neuroticism: float = Field(ge=0, le=1)


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    name: str = Field(min_length=1, max_length=80)
    summary: str = Field(min_length=1, max_length=2000)
    age: int | None = Field(default=None, ge=18, le=120)
    pronouns: str | None = None
    occupation: str | None = None
    attachment_style: Literal["secure", "anxious", "avoidant", "fearful"] | None = None
    communication_style: str | None = None
    conflict_style: str | None = None
    love_language: str | None = None
    values: list[str] = Field(default_factory=list)
    memories: list[str] = Field(default_factory=list)
    traits: BigFive | None = None
    # RELATE-Sim intake: a second-person synopsis and "If …, I …" behavioural rules.
    synopsis: str | None = Field(default=None, max_length=4000)
    if_then_rules: list[str] = Field(default_factory=list)

    @field_validator("synopsis")
    @classmethod
    def _synopsis(cls, value: str | None) -> str | None:
        return None if value is None else check_synopsis(value)

    @field_validator("if_then_rules")
    @classmethod
    def _rules(cls, value: list[str]) -> list[str]:
        return check_rules(value)

    def profile(self, *, inner: bool = True) -> dict[str, Any]:
        """What prompts tell a model about this persona (no empty fields). ``inner=False``
        leaves out the intake's synopsis and if→then rules: the persona's own prompts carry
        them, while the partner and the Scene Master see the outward profile (shorter prompts,
        and a partner's private rules stay private)."""
        hidden = {"id", "memories"} if inner else {"id", "memories", "synopsis", "if_then_rules"}
        data = self.model_dump(exclude=hidden, exclude_none=True)
        if not data.get("values"):
            data.pop("values", None)
        return data


_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_persona(path: str | Path) -> Persona:
    path = Path(path)
    data = read_toml(path, "persona file", PersonaError)
    data.setdefault("id", path.stem)
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        raise PersonaError(describe(exc, str(path))) from None


def list_personas(directory: Path | None = None) -> list[Persona]:
    """The personas in ``directory``, or every persona in effect (user files shadowing
    shipped ones by id; see ``engine.sim.sources``), sorted by id."""
    if directory is not None:
        return [load_persona(p) for p in sorted(directory.glob("*.toml"))]
    return [load_persona(path) for path, _ in persona_files().values()]


def find_persona(key: str, directory: Path | None = None) -> Persona:
    """A persona by file path, id (file stem) or first name, case-insensitively."""
    return find_persona_file(key, directory)[0]


def find_persona_file(key: str, directory: Path | None = None) -> tuple[Persona, Path]:
    """``find_persona`` and the file the persona was read from."""
    if key.endswith(".toml") or "/" in key:
        path = locate(key) or Path(key)
        return load_persona(path), path
    wanted = key.strip().lower()
    if directory is None:
        files = [path for path, _ in persona_files().values()]
        hit = persona_file(wanted) if _ID.match(wanted) else None
        where = ", ".join(str(s.directory) for s in sources())
    else:
        files = sorted(directory.glob("*.toml"))
        hit = directory / f"{wanted}.toml" if _ID.match(wanted) else None
        where = str(directory)
    if hit is not None and hit.is_file():
        return load_persona(hit), hit
    for path in files:
        persona = load_persona(path)
        if persona.name.lower() == wanted or persona.name.split()[0].lower() == wanted:
            return persona, path
    raise PersonaError(f"unknown persona '{key}' (looked in {where})")
