from __future__ import annotations

from engine import RelationshipAgent, SceneMaster, Simulation
from engine.events import EventBase
from engine.llm.types import Provider


def make_sim(
    provider: Provider | str | None = None,
    *,
    seed: int = 0,
    scenes: int = 3,
    personas: tuple[str, str] = ("aiko-tanaka", "kwame-asante"),
    events: list[EventBase] | None = None,
) -> Simulation:
    a = RelationshipAgent.from_persona(personas[0], model=provider)
    b = RelationshipAgent.from_persona(personas[1], model=provider)
    sink = events.append if events is not None else None
    return Simulation(
        SceneMaster(a, b, model=provider),
        a,
        b,
        seed=seed,
        num_scenes=scenes,
        sim_id="t1",
        sink=sink,
    )


def payloads(events: list[EventBase]) -> list[dict]:
    """Events without their timestamps and timings, for comparing runs."""
    out = []
    for e in events:
        data = e.model_dump(exclude={"t"})
        data.pop("latency_s", None)
        out.append(data)
    return out
