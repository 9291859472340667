"""The relationship domain: personas, agents, memory, scenes, schemas, prompts, the simulator."""
