"""relsim's engine: the public Python API.

agent1 = RelationshipAgent("Alice", "A thoughtful introvert who values deep conversations.")
agent2 = RelationshipAgent("Bob", "An outgoing extrovert who loves socializing.")
scene_master = SceneMaster(agent1, agent2)
simulation = Simulation(scene_master, agent1, agent2)
commitment_log = await simulation.run_auto_async(num_interactions_per_scene=3)
"""

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

__version__ = "0.1.0"

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
