"""Batch specification: what to run. A TOML file, or the same model built in code.

``expand()`` turns a spec into one ``SimPlan`` per simulation, deterministically: the same spec
always gives the same sim ids, pairs and per-simulation seeds, so a run directory's manifest is
enough to resume or rerun any simulation.
"""

from __future__ import annotations

import glob as globmod
import hashlib
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.configfile import describe, read_toml
from engine.errors import ConfigError, PersonaError
from engine.sim.personas import Persona, find_persona_file, load_persona
from engine.sim.simulation import MAX_BEATS, MAX_SCENES
from engine.sim.sources import (
    find_batch,
    glob_roots,
    locate,
    persona_file,
    persona_files,
    sources,
)

MAX_REPLICATES = 10_000
MAX_CONCURRENCY = 100_000
# Above this many simulations a batch runs only when asked to (``--yes`` or ``max_simulations``).
DEFAULT_MAX_SIMULATIONS = 10_000
MAX_SEED = 2**63 - 1  # what the run log (JSON integers) and model APIs' seeds hold


@dataclass(frozen=True, slots=True)
class SimPlan:
    """One simulation of a batch: who plays A and B, which replicate, and its seed."""

    sim_id: str
    persona_a: str  # a path to the persona file (resolved when the batch was expanded)
    persona_b: str
    name_a: str
    name_b: str
    replicate: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "sim_id": self.sim_id, "persona_a": self.persona_a, "persona_b": self.persona_b,
            "name_a": self.name_a, "name_b": self.name_b, "replicate": self.replicate,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimPlan:
        return cls(**{k: data[k] for k in cls.__slots__})  # type: ignore[attr-defined]


def derive_seed(batch_seed: int, a: str, b: str, replicate: int) -> int:
    """A per-simulation seed that depends only on the batch seed, the pair and the replicate
    (not on the position in the batch), so adding personas does not reshuffle other seeds."""
    digest = hashlib.blake2b(f"{batch_seed}|{a}|{b}|{replicate}".encode(), digest_size=4).digest()
    return int.from_bytes(digest) & 0x7FFFFFFF


def calls_per_simulation(
    scenes: int,
    beats: int,
    identity_calls: int = 2,
    policy: str = "state",
    commitment_samples: int = 1,
) -> int:
    """Chat calls one simulation of ``scenes`` scenes (the maximum: it may end early) makes when
    nothing is retried: per scene setup, two perspectives, per beat (beat, the actor's
    appraisal, the Scene Master's options, action, the partner's appraisal), summary, state,
    two reflections, two commitments × samples, a scene choice (policy "scene_master" only);
    a transition between scenes; the after-action report; the identity-memory appraisals."""
    per_scene = 1 + 2 + 5 * beats + 1 + 1 + 2 + 2 * commitment_samples
    per_scene += policy == "scene_master"
    return scenes * per_scene + (scenes - 1) + 1 + identity_calls


class BatchSpec(BaseModel):
    """A batch: personas × pairing × replicates, each simulation playing ``scenes`` scenes of
    ``beats`` beats on ``model``. Field names are shared with the dashboard's launch screen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="batch", min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    personas: list[str] | str = "all"
    pairing: Literal["all_pairs", "explicit", "both_orders"] = "all_pairs"
    pairs: list[tuple[str, str]] = Field(default_factory=list)
    scenes: int = Field(default=10, ge=1, le=MAX_SCENES)
    # A user scenario library (relsim TOML, e.g. from `relsim scenarios import`), added to the
    # shipped one; a user entry with a shipped id replaces it.
    scenarios: str | None = None
    plan: list[str] | None = None
    # How the next scene is chosen (engine.sim.selection); a plan implies "fixed".
    policy: Literal["state", "scene_master", "fixed"] = "state"
    commitment_samples: int = Field(default=1, ge=1, le=10)
    context_turns: int = Field(default=6, ge=1, le=100)
    beats: int = Field(default=3, ge=1, le=MAX_BEATS)
    replicates: int = Field(default=1, ge=1, le=MAX_REPLICATES)
    model: str = Field(default="sim", min_length=1)
    base_url: str | None = None
    # The embeddings model ("local": the built-in hashing embedder; None: the provider default,
    # falling back to hashing where the endpoint cannot embed).
    embed_model: str | None = None
    # Output budgets per call purpose, over engine.llm.budgets' defaults ([max_tokens] table).
    max_tokens: dict[str, int] = Field(default_factory=dict)
    sim: dict[str, float] = Field(default_factory=dict)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    concurrency: int = Field(default=64, ge=1, le=MAX_CONCURRENCY)
    out: str = Field(default="logs", min_length=1)
    # Refuse batches larger than this (a size that needs saying so, see check_size).
    max_simulations: int = Field(default=DEFAULT_MAX_SIMULATIONS, ge=1)
    # Seconds a simulation waits on an endpoint that is down before it fails ("endpoint down
    # since …"); None: RELSIM_OUTAGE_TIMEOUT or 300.
    outage_timeout: float | None = Field(default=None, gt=0, le=86_400)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans(cls, data: Any) -> Any:
        # TOML's `true` is not a number: pydantic would take it as 1 (`concurrency = true`).
        if isinstance(data, dict):
            for name, value in data.items():
                info = cls.model_fields.get(name) if isinstance(name, str) else None
                if info is None:
                    continue
                if isinstance(value, bool) and info.annotation is not bool:
                    raise ValueError(f"{name}: expected a number, not {str(value).lower()}")
                if name == "sim" and isinstance(value, dict):
                    for key, option in value.items():
                        if isinstance(option, bool):
                            raise ValueError(
                                f"sim.{key}: expected a number, not {str(option).lower()}"
                            )
        return data

    @model_validator(mode="before")
    @classmethod
    def _scenes_from_plan(cls, data: Any) -> Any:
        # A plan fixes the number of scenes; ``scenes`` may be left out or must agree.
        if isinstance(data, dict) and isinstance(data.get("plan"), list) and "scenes" not in data:
            data = {**data, "scenes": len(data["plan"]) or 1}
        if isinstance(data, dict) and data.get("plan") is not None and "policy" not in data:
            data = {**data, "policy": "fixed"}
        return data

    @field_validator("scenarios")
    @classmethod
    def _loadable_library(cls, path: str | None) -> str | None:
        from engine.sim.turning_points import library

        if path is not None:
            try:
                library(path)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return path

    @field_validator("plan")
    @classmethod
    def _known_turning_points(
        cls, plan: list[str] | None, info: ValidationInfo
    ) -> list[str] | None:
        if plan is None:
            return None
        from engine.sim.turning_points import library

        if not plan:
            raise ValueError("give at least one turning point, or leave plan out")
        unknown = [tp for tp in plan if tp not in library(info.data.get("scenarios"))]
        if unknown:
            raise ValueError(f"unknown turning point(s): {', '.join(unknown)}")
        return plan

    @field_validator("max_tokens", mode="before")
    @classmethod
    def _budgets(cls, table: Any) -> Any:
        from engine.llm.budgets import check_budgets

        if isinstance(table, dict):
            try:
                return check_budgets(table)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return table

    @field_validator("sim")
    @classmethod
    def _known_sim_options(cls, options: dict[str, float]) -> dict[str, float]:
        from engine.sim.provider import sim_options

        try:
            sim_options(options)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return options

    @model_validator(mode="after")
    def _consistent(self) -> BatchSpec:
        if self.plan is not None and len(self.plan) != self.scenes:
            raise ValueError(
                f"scenes ({self.scenes}) and the plan's length ({len(self.plan)}) differ"
            )
        if self.plan is not None and self.policy != "fixed":
            raise ValueError(f"a plan needs policy = 'fixed', not {self.policy!r}")
        if self.pairing == "explicit" and not self.pairs:
            raise ValueError("pairing = 'explicit' needs pairs = [[a, b], …]")
        if self.pairing != "explicit" and self.pairs:
            raise ValueError("pairs is only used with pairing = 'explicit'")
        if self.sim and self.model != "sim":
            raise ValueError("sim options apply only to model = 'sim'")
        from engine.llm.registry import check_model

        try:
            check_model(self.model, self.base_url)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def with_overrides(self, source: str = "command line", **overrides: Any) -> BatchSpec:
        """This spec with the given fields replaced (``None`` keeps a field as it is), validated
        again. Simulator options (``[sim]``) go when the resulting model is not the simulator:
        they cannot apply to it, and a batch written for ``sim`` stays usable with
        ``--model openai/…``."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        if not changes:
            return self
        data = {**self.model_dump(), **changes}
        if data["model"] != "sim":
            data["sim"] = {}
        return spec_from_dict(data, source)

    # -- expansion -----------------------------------------------------------------------------

    def resolve_personas(self) -> list[Persona]:
        """The personas the ``personas`` field names (ids, first names, paths, a glob or "all"),
        in order, without duplicates. Raises ConfigError naming the field."""
        return [persona for persona, _ in self._resolve_with_paths()]

    def _resolve_with_paths(self) -> list[tuple[Persona, str]]:
        try:
            return _resolve_personas(self.personas)
        except PersonaError as exc:
            raise ConfigError(f"personas: {exc}") from None

    def expand(self) -> list[SimPlan]:
        """One SimPlan per simulation, in a stable order, with ids s0001, s0002, …"""
        if self.pairing == "explicit":
            cache: dict[str, tuple[Persona, str]] = {}
            pairs = []
            for index, (ka, kb) in enumerate(self.pairs):
                try:
                    pa = cache.setdefault(ka, _resolve_one(ka))
                    pb = cache.setdefault(kb, _resolve_one(kb))
                except PersonaError as exc:
                    raise ConfigError(f"pairs[{index}]: {exc}") from None
                if pa[0].name == pb[0].name:
                    raise ConfigError(f"pairs[{index}]: a persona cannot be paired with itself")
                pairs.append((pa, pb))
        else:
            people = self._resolve_with_paths()
            if len(people) < 2:
                raise ConfigError(
                    f"personas: a batch needs at least two personas, got {len(people)}"
                )
            names = [p.name for p, _ in people]
            if len(set(names)) != len(names):
                raise ConfigError(
                    "personas: two personas share a name; partners need distinct names"
                )
            combos = (
                itertools.combinations(people, 2)
                if self.pairing == "all_pairs"
                else itertools.permutations(people, 2)
            )
            pairs = list(combos)
        total = len(pairs) * self.replicates
        width = max(4, len(str(total)))
        plans = []
        n = 0
        for (pa, path_a), (pb, path_b) in pairs:
            for replicate in range(self.replicates):
                n += 1
                plans.append(
                    SimPlan(
                        sim_id=f"s{n:0{width}d}",
                        persona_a=path_a, persona_b=path_b, name_a=pa.name, name_b=pb.name,
                        replicate=replicate,
                        seed=derive_seed(self.seed, pa.id or pa.name, pb.id or pb.name, replicate),
                    )
                )
        return plans

    def count_simulations(self) -> int:
        """How many simulations ``expand()`` makes, without making them."""
        if self.pairing == "explicit":
            pairs = len(self.pairs)
        else:
            n = len(self._resolve_with_paths())
            pairs = n * (n - 1) // (2 if self.pairing == "all_pairs" else 1)
        return pairs * self.replicates

    def size_text(self) -> str:
        """``1,200 simulations, about 96,000 model calls`` (before retries)."""
        sims = self.count_simulations()
        calls = sims * calls_per_simulation(
            self.scenes, self.beats, policy=self.policy, commitment_samples=self.commitment_samples
        )
        return f"{sims:,} simulations, about {calls:,} model calls"

    def check_size(self, *, allow_large: bool = False) -> None:
        """Refuse a batch above ``max_simulations`` unless ``allow_large`` (``--yes``)."""
        sims = self.count_simulations()
        if sims > self.max_simulations and not allow_large:
            raise ConfigError(
                f"this batch is {self.size_text()}, above the limit of "
                f"{self.max_simulations:,}: pass --yes, or set max_simulations = {sims} in the "
                "batch file, to run it"
            )

    def estimated_calls(self) -> int:
        """Chat calls the batch makes without retries (a lower bound for progress displays)."""
        if self.pairing == "explicit":
            pairs = len(self.pairs)
        else:
            n = len(self.resolve_personas())
            pairs = n * (n - 1) // (2 if self.pairing == "all_pairs" else 1)
        return pairs * self.replicates * calls_per_simulation(
            self.scenes, self.beats, policy=self.policy, commitment_samples=self.commitment_samples
        )


# -- persona resolution ------------------------------------------------------------------------

_persona_cache: dict[str, tuple[float, Persona]] = {}


def _load_cached(path: Path) -> Persona:
    # Big batches name the same files thousands of times; load each once per modification.
    key = str(path.resolve())
    mtime = path.stat().st_mtime if path.exists() else -1.0
    hit = _persona_cache.get(key)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    persona = load_persona(path)
    _persona_cache[key] = (mtime, persona)
    return persona


def _resolve_one(key: str) -> tuple[Persona, str]:
    key = key.strip()
    if key.endswith(".toml") or "/" in key:
        path = locate(key) or Path(key)
    else:
        # Ids are the common case: a dict lookup, and the file loaded once (cached).
        found = persona_file(key.lower())
        if found is None:
            persona, path = find_persona_file(key)
            return persona, str(path.resolve())
        path = found
    return _load_cached(path), str(path.resolve())


def _resolve_personas(spec: list[str] | str) -> list[tuple[Persona, str]]:
    found: list[tuple[Persona, str]] = []
    if isinstance(spec, str):
        if spec.strip().lower() == "all":
            paths = [path for path, _ in persona_files().values()]
            if not paths:
                where = ", ".join(str(s.directory) for s in sources())
                raise PersonaError(f"no persona files in {where}")
            found = [(_load_cached(p), str(p.resolve())) for p in paths]
        elif any(ch in spec for ch in "*?["):
            paths = []
            roots = [Path()] if Path(spec).is_absolute() else glob_roots()
            for root in roots:
                paths = sorted(Path(p) for p in globmod.glob(str(root / spec)))
                if paths:
                    break
            if not paths:
                raise PersonaError(f"the glob {spec!r} matches no files")
            found = [(_load_cached(p), str(p.resolve())) for p in paths]
        else:
            found = [_resolve_one(spec)]
    else:
        found = [_resolve_one(key) for key in spec]
    seen: set[str] = set()
    result = []
    for persona, path in found:
        if path in seen:
            continue
        seen.add(path)
        result.append((persona, path))
    return result


# -- loading -----------------------------------------------------------------------------------


def spec_from_dict(data: dict[str, Any], source: str = "batch") -> BatchSpec:
    try:
        return BatchSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, source)) from None


def load_batch(path: str | Path) -> BatchSpec:
    """Read and validate a batch TOML file (a ``[batch]`` table or top-level keys). Raises
    ConfigError naming the file, the field and the problem; persona names are checked too."""
    path = Path(path)
    data = read_toml(path, "batch file")
    if "batch" in data and isinstance(data["batch"], dict):
        data = {**{k: v for k, v in data.items() if k != "batch"}, **data["batch"]}
    spec = spec_from_dict(data, str(path))
    try:
        spec.expand()
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return spec


DEMO_BATCH = "demo"


def demo_batch_path() -> Path:
    """The demo batch (``relsim demo``): shipped, unless a user directory has its own."""
    return find_batch(DEMO_BATCH)
