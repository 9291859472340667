"""The relationship domain: personas, agents, memory, scenes, schemas, prompts, the simulator.

The simulator's provider (model ``sim``) is not imported here: the model registry imports it on
the first model lookup (``engine.llm.registry.LOCAL_MODEL_MODULES``), so reading personas or
runs does not load the model layer.
"""
