"""The relationship domain: personas, agents, memory, scenes, schemas, prompts, the simulator."""

# Loading the domain registers its simulator as the model ``sim`` with the model layer.
from engine.sim import provider as _provider  # noqa: F401
