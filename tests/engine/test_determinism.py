from __future__ import annotations

import asyncio

import pytest

from engine import SceneMaster, Simulation, SyncInAsyncError
from engine.events import parse_event
from tests.engine.helpers import make_sim, payloads


def test_same_seed_same_transcript_and_sync_matches_async() -> None:
    first: list = []
    second: list = []
    log_async = asyncio.run(make_sim(seed=7, events=first).run_auto_async(2))
    log_sync = make_sim(seed=7, events=second).run_auto(2)
    assert log_async == log_sync
    assert payloads(first) == payloads(second)


def test_different_seeds_and_pairs_diverge() -> None:
    base = make_sim(seed=1, scenes=6).run_auto(2)
    other_seed = make_sim(seed=2, scenes=6).run_auto(2)
    other_pair = make_sim(seed=1, scenes=6, personas=("lena-fischer", "elliot-marsh")).run_auto(2)

    def trajectory(log: list) -> list[tuple[int, ...]]:
        return [tuple(c.score for c in e.commitments.values()) for e in log]

    assert trajectory(base) != trajectory(other_pair)
    assert [e.turning_point.id for e in base] != [e.turning_point.id for e in other_seed]


async def test_sync_wrapper_inside_a_loop_says_to_await() -> None:
    sim = make_sim(scenes=1)
    with pytest.raises(SyncInAsyncError, match=r"await Simulation\.run_auto_async"):
        sim.run_auto(1)
    with pytest.raises(SyncInAsyncError, match="appraise_async"):
        sim.agents[0].appraise("a moment")


def test_events_round_trip_through_json() -> None:
    events: list = []
    make_sim(scenes=1, events=events).run_auto(1)
    for event in events:
        assert parse_event(event.model_dump_json()) == event


async def test_restore_continues_after_the_last_completed_scene() -> None:
    full: list = []
    expected = await make_sim(seed=3, scenes=4, events=full).run_auto_async(2)
    ended = [i for i, e in enumerate(full) if e.type == "scene_ended"]
    # Crash in the middle of the third scene: keep two finished scenes and part of the next.
    cut = full[: ended[1] + 6]
    resumed_events: list = []
    sim = make_sim(seed=3, scenes=4, events=resumed_events)
    assert sim.restore(cut) == 2
    log = await sim.run_auto_async(2)
    assert log == expected
    new_scenes = [e.scene_index for e in resumed_events if e.type == "scene_started"]
    assert new_scenes == [2, 3]
    # What the resumed run emits is exactly what the uninterrupted run emitted after the cut.
    tail = [e for e in full[ended[1] + 1 :] if e.type != "simulation_started"]
    mine = [e for e in resumed_events if e.type != "simulation_started"]
    assert payloads(mine) == payloads(tail)


def test_scene_master_and_simulation_must_share_agents() -> None:
    a = make_sim().agents
    other = make_sim().agents
    with pytest.raises(ValueError, match="same two agents"):
        Simulation(SceneMaster(a[0], a[1]), other[0], other[1])
