"""The seed document's two examples, unchanged apart from their imports."""

import asyncio

from engine import RelationshipAgent, SceneMaster, Simulation


async def run_single_simulation():
    agent1 = RelationshipAgent("Alice", "A thoughtful introvert who values deep conversations.")
    agent2 = RelationshipAgent("Bob", "An outgoing extrovert who loves socializing.")
    scene_master = SceneMaster(agent1, agent2)
    simulation = Simulation(scene_master, agent1, agent2)
    commitment_log = await simulation.run_auto_async(num_interactions_per_scene=3)
    return commitment_log


async def run_one(simulation_id, agent1_name, agent1_persona, agent2_name, agent2_persona):
    agent1 = RelationshipAgent(agent1_name, agent1_persona)
    agent2 = RelationshipAgent(agent2_name, agent2_persona)
    scene_master = SceneMaster(agent1, agent2)
    simulation = Simulation(scene_master, agent1, agent2)
    commitment_log = await simulation.run_auto_async(num_interactions_per_scene=2)
    return {"simulation_id": simulation_id, "commitment_log": commitment_log}


async def run_multiple_simulations():
    configs = [
        {
            "simulation_id": "sim_1",
            "agent1_name": "Alex",
            "agent1_persona": "A thoughtful introvert who values deep conversations.",
            "agent2_name": "Jordan",
            "agent2_persona": "An outgoing extrovert who loves socializing.",
        },
        {
            "simulation_id": "sim_2",
            "agent1_name": "Maya",
            "agent1_persona": "A career-driven professional who prioritizes work-life balance.",
            "agent2_name": "Sam",
            "agent2_persona": "A creative artist who lives in the moment.",
        },
    ]
    tasks = [run_one(**config) for config in configs]
    results = await asyncio.gather(*tasks)
    return results


def _complete(log, names) -> None:
    # All ten scenes, unless the couple separated early (engine.sim.selection.ending: only
    # after a scene that leaves the mean commitment below 4 or a partner at 2 or less).
    assert [e.scene_index for e in log] == list(range(len(log))) and 1 <= len(log) <= 10
    if len(log) < 10:
        last = [c.score for c in log[-1].commitments.values()]
        assert sum(last) / len(last) < 4 or min(last) <= 2
    for entry in log:
        assert entry.summary and entry.turning_point.title
        assert set(entry.commitments) == set(names)
        for name in names:
            c = entry.commitments[name]
            assert isinstance(c.score, int) and 0 <= c.score <= 10
            assert c.reasoning and c.agent == name


def test_single_simulation_example() -> None:
    results = asyncio.run(run_single_simulation())
    _complete(results, {"Alice", "Bob"})


def test_concurrent_simulations_example() -> None:
    results = asyncio.run(run_multiple_simulations())
    assert [r["simulation_id"] for r in results] == ["sim_1", "sim_2"]
    _complete(results[0]["commitment_log"], {"Alex", "Jordan"})
    _complete(results[1]["commitment_log"], {"Maya", "Sam"})


async def test_simulations_really_run_concurrently() -> None:
    """With 50 ms per call, two simulations under gather take about as long as one."""
    from engine import SimLatency, SimProvider

    def build() -> Simulation:
        provider = SimProvider(latency=SimLatency(0.05))
        a = RelationshipAgent("Alex", "quiet", model=provider)
        b = RelationshipAgent("Jordan", "loud", model=provider)
        return Simulation(SceneMaster(a, b, model=provider), a, b, num_scenes=1)

    loop = asyncio.get_running_loop()
    start = loop.time()
    await build().run_auto_async(1)
    one = loop.time() - start
    start = loop.time()
    await asyncio.gather(*(build().run_auto_async(1) for _ in range(4)))
    four = loop.time() - start
    assert four < 2 * one
