"""Converting a scenario library in rel_sim's ``turing_points.json`` format to relsim's TOML.

The JSON is a list of objects: ``turning_point`` (the title), ``category``, ``uncertainty_type``,
``context``, ``scenario`` (with ``[partner_a]`` / ``[partner_b]``), ``repeatability``,
``commitment_lower`` / ``commitment_upper`` (0–100) and ``min_scenes_from_start``. Users bring
their own copy; relsim ships none of rel_sim's text.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import tomli_w
from pydantic import ValidationError

from engine.configfile import describe
from engine.errors import ConfigError
from engine.sim.turning_points import CATEGORIES, COMMITMENT_HIGH, TurningPoint

# How hard each category presses on a couple when the file does not say (relsim's own scale).
CATEGORY_STRAIN = {
    "Initial Formation": 0.3,
    "Relationship Development": 0.35,
    "Deepening or Milestones": 0.4,
    "Other Modern Turning Points": 0.5,
    "Challenges or Tests": 0.6,
    "Conflict & Repair": 0.7,
    "Transitions or Endings": 0.75,
}
CATEGORY_VALENCE = {
    "Initial Formation": "positive",
    "Relationship Development": "positive",
    "Deepening or Milestones": "positive",
    "Challenges or Tests": "negative",
    "Conflict & Repair": "negative",
}
# Doubt about the relationship itself weighs a little more than doubt about one person.
RELATIONSHIP_STRAIN_BONUS = 0.05
_REPEATABLE_YES = {"true", "yes", "y", "1", "repeatable", "repeat", "repeated", "multiple", "many"}
_REPEATABLE_NO = {"false", "no", "n", "0", "", "once", "one-time", "one time", "single",
                  "unique", "non-repeatable", "nonrepeatable", "not repeatable"}


def _words(text: str) -> tuple[str, ...]:
    # "Conflict and Repair", "conflict &repair", "CHALLENGES/TESTS" all reduce to the same words.
    words = re.findall(r"[a-z]+", text.lower().replace("&", " and "))
    return tuple(w for w in words if w not in {"and", "or"})


_CATEGORY_KEYS = {_words(c): c for c in CATEGORIES}


def normalise_category(raw: object) -> str:
    if not isinstance(raw, str) or _words(raw) not in _CATEGORY_KEYS:
        raise ValueError(f"unknown category {raw!r} (expected one of: {', '.join(CATEGORIES)})")
    return _CATEGORY_KEYS[_words(raw)]


def normalise_uncertainty(raw: object) -> str:
    if raw is None or raw == "":
        return "relationship"
    text = str(raw).lower()
    for key, value in (("self", "self"), ("partner", "partner"), ("relation", "relationship")):
        if key in text:
            return value
    raise ValueError(f"unknown uncertainty_type {raw!r} (expected self, partner or relationship)")


def parse_repeatable(raw: object) -> bool:
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return raw > 0
    text = str(raw).strip().lower().replace("_", "-")
    if text in _REPEATABLE_YES:
        return True
    if text in _REPEATABLE_NO:
        return False
    raise ValueError(f"repeatability {raw!r} is neither yes nor no")


def _percent(raw: object, name: str, default: float) -> float:
    """A 0–100 commitment bound as relsim's 0–10."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"{name} must be a number from 0 to 100, got {raw!r}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number from 0 to 100, got {raw!r}") from None
    if not 0 <= value <= 100:
        raise ValueError(f"{name} must be from 0 to 100, got {raw!r}")
    return round(value * COMMITMENT_HIGH / 100, 2)


def _min_scene(raw: object) -> int:
    if raw is None or raw == "":
        return 0
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError(f"min_scenes_from_start must be a whole number, got {raw!r}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"min_scenes_from_start must be a whole number, got {raw!r}") from None
    if value < 0 or value != int(value):
        raise ValueError(f"min_scenes_from_start must be a whole number ≥ 0, got {raw!r}")
    return int(value)


def convert_placeholders(text: str) -> str:
    """``[partner_a]`` → ``$a`` (``${a}`` before a letter); a literal ``$`` is escaped."""
    text = text.replace("$", "$$")

    def sub(match: re.Match[str]) -> str:
        who = match.group(1).lower()
        rest = match.string[match.end() : match.end() + 1]
        return f"${{{who}}}" if rest and (rest.isalnum() or rest == "_") else f"${who}"

    return re.sub(r"\[\s*partner[\s_-]*([ab])\s*\]", sub, text, flags=re.IGNORECASE)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].rstrip("-") or "scenario"


def _text(entry: dict[str, Any], key: str, *, required: bool) -> str:
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"missing {key}")
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text, got {type(value).__name__}")
    return " ".join(value.split())


def convert_entry(entry: object, used_ids: set[str]) -> TurningPoint:
    """One rel_sim entry as a TurningPoint; ``used_ids`` keeps ids unique (and is updated)."""
    if not isinstance(entry, dict):
        raise ValueError(f"expected an object, got {type(entry).__name__}")
    title = _text(entry, "turning_point", required=True)
    category = normalise_category(entry.get("category"))
    uncertainty = normalise_uncertainty(entry.get("uncertainty_type"))
    context = _text(entry, "context", required=False)
    scenario = _text(entry, "scenario", required=True)
    if context:
        scenario = f"{context}{'' if context[-1] in '.!?' else '.'} {scenario}"
    low = _percent(entry.get("commitment_lower"), "commitment_lower", 0.0)
    high = _percent(entry.get("commitment_upper"), "commitment_upper", COMMITMENT_HIGH)
    base = slugify(title)
    ident, n = base, 2
    while ident in used_ids:
        ident, n = f"{base}-{n}", n + 1
    strain = CATEGORY_STRAIN[category] + (
        RELATIONSHIP_STRAIN_BONUS if uncertainty == "relationship" else 0.0
    )
    fields = {
        "id": ident,
        "category": category,
        "title": title,
        "uncertainty": uncertainty,
        "strain": round(min(1.0, strain), 2),
        "scenario": convert_placeholders(scenario),
        "repeatable": parse_repeatable(entry.get("repeatability")),
        "commitment_min": low,
        "commitment_max": high,
        "min_scene": _min_scene(entry.get("min_scenes_from_start")),
        "valence": CATEGORY_VALENCE.get(category, "mixed"),
        "tags": ("imported",),
    }
    try:
        tp = TurningPoint.model_validate(fields)
    except ValidationError as exc:
        raise ValueError(describe(exc, "").removeprefix(": ")) from None
    used_ids.add(ident)
    return tp


def convert_library(data: bytes, source: str) -> list[TurningPoint]:
    """Every entry of a ``turing_points.json`` text; ConfigError naming the first bad entry."""
    try:
        entries = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{source}: expected a non-empty JSON list of turning points")
    used: set[str] = set()
    out = []
    for number, entry in enumerate(entries, 1):
        try:
            out.append(convert_entry(entry, used))
        except ValueError as exc:
            title = entry.get("turning_point") if isinstance(entry, dict) else None
            where = f"entry {number}" + (f" ({title!r})" if isinstance(title, str) else "")
            raise ConfigError(f"{source}: {where}: {exc}") from None
    return out


def to_toml(turning_points: list[TurningPoint], source: str) -> str:
    """relsim's library format (``[[turning_point]]`` tables), loadable by ``library()``."""
    body = tomli_w.dumps(
        {"turning_point": [tp.model_dump(mode="json") for tp in turning_points]},
        multiline_strings=False,
    )
    header = (
        f"# Imported by `relsim scenarios import` from {' '.join(source.split())}.\n"
        "# Commitment bands are on relsim's 0-10 scale; strain is derived from the category.\n\n"
    )
    return header + body
