"""relsim's engine: the public Python API.

agent1 = RelationshipAgent("Alice", "A thoughtful introvert who values deep conversations.")
agent2 = RelationshipAgent("Bob", "An outgoing extrovert who loves socializing.")
scene_master = SceneMaster(agent1, agent2)
simulation = Simulation(scene_master, agent1, agent2)
commitment_log = await simulation.run_auto_async(num_interactions_per_scene=3)

The names are imported on first use (PEP 562): every ``relsim`` command imports this package,
and most (``analyze``, ``runs``, ``--help``) need none of the simulation stack behind them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "ConfigError": "engine.errors",
    "LLMError": "engine.errors",
    "PersonaError": "engine.errors",
    "RelsimError": "engine.errors",
    "StructuredOutputError": "engine.errors",
    "SyncInAsyncError": "engine.errors",
    "RelationshipAgent": "engine.sim.agent",
    "Persona": "engine.sim.personas",
    "find_persona": "engine.sim.personas",
    "list_personas": "engine.sim.personas",
    "load_persona": "engine.sim.personas",
    "SimFaults": "engine.sim.provider",
    "SimLatency": "engine.sim.provider",
    "SimProvider": "engine.sim.provider",
    "CommitmentEntry": "engine.sim.records",
    "PartnerCommitment": "engine.sim.records",
    "TurningPointRef": "engine.sim.records",
    "SceneMaster": "engine.sim.scene_master",
    "Simulation": "engine.sim.simulation",
    "TurningPoint": "engine.sim.turning_points",
    "build_plan": "engine.sim.turning_points",
    "library": "engine.sim.turning_points",
}

if TYPE_CHECKING:
    from engine.errors import (
        ConfigError,
        LLMError,
        PersonaError,
        RelsimError,
        StructuredOutputError,
        SyncInAsyncError,
    )
    from engine.sim.agent import RelationshipAgent
    from engine.sim.personas import Persona, find_persona, list_personas, load_persona
    from engine.sim.provider import SimFaults, SimLatency, SimProvider
    from engine.sim.records import CommitmentEntry, PartnerCommitment, TurningPointRef
    from engine.sim.scene_master import SceneMaster
    from engine.sim.simulation import Simulation
    from engine.sim.turning_points import TurningPoint, build_plan, library


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        # AttributeError (not ImportError) lets ``from engine import redact`` import a submodule.
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "CommitmentEntry",
    "ConfigError",
    "LLMError",
    "PartnerCommitment",
    "Persona",
    "PersonaError",
    "RelationshipAgent",
    "RelsimError",
    "SceneMaster",
    "SimFaults",
    "SimLatency",
    "SimProvider",
    "Simulation",
    "StructuredOutputError",
    "SyncInAsyncError",
    "TurningPoint",
    "TurningPointRef",
    "__version__",
    "build_plan",
    "find_persona",
    "library",
    "list_personas",
    "load_persona",
]
