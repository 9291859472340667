"""Personas: free text or TOML files in ``personas/``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.configfile import describe, read_toml
from engine.errors import PersonaError


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

    def profile(self) -> dict[str, Any]:
        """What prompts tell a model about this persona (no empty fields)."""
        data = self.model_dump(exclude={"id", "memories"}, exclude_none=True)
        if not data.get("values"):
            data.pop("values", None)
        return data


_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def personas_dir() -> Path:
    """``$RELSIM_PERSONAS``, else ``./personas``, else the checkout's own ``personas/``."""
    env = os.environ.get("RELSIM_PERSONAS")
    if env:
        return Path(env)
    local = Path.cwd() / "personas"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parents[2] / "personas"


def load_persona(path: str | Path) -> Persona:
    path = Path(path)
    data = read_toml(path, "persona file", PersonaError)
    data.setdefault("id", path.stem)
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        raise PersonaError(describe(exc, str(path))) from None


def list_personas(directory: Path | None = None) -> list[Persona]:
    directory = directory or personas_dir()
    return [load_persona(p) for p in sorted(directory.glob("*.toml"))]


def find_persona(key: str, directory: Path | None = None) -> Persona:
    """A persona by file path, id (file stem) or first name, case-insensitively."""
    if key.endswith(".toml") or "/" in key:
        return load_persona(key)
    directory = directory or personas_dir()
    if _ID.match(key.lower()) and (directory / f"{key.lower()}.toml").is_file():
        return load_persona(directory / f"{key.lower()}.toml")
    wanted = key.strip().lower()
    for persona in list_personas(directory):
        if persona.name.lower() == wanted or persona.name.split()[0].lower() == wanted:
            return persona
    raise PersonaError(f"unknown persona '{key}' (looked in {directory})")
