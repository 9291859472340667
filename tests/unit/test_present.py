"""The shared presentation layer: figures, ETA, the run listing and the transcript renderer."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
from rich.console import Console

from engine.batch.runlist import CRASHED, list_runs
from engine.batch.state import BatchState, SimRow
from engine.events import Narration, SimStateChanged
from engine.present.format import count, duration
from engine.present.rate import CallRate, eta
from engine.present.transcript import print_transcript


def test_counts_and_durations() -> None:
    assert [count(950), count(12_345), count(4_100_000)] == ["950", "12.3k", "4.1M"]
    assert [duration(None), duration(75), duration(3 * 3600 + 120)] == ["--", "1:15", "3h02"]


def test_call_rate_over_a_window() -> None:
    rate = CallRate(window_s=5.0)
    assert rate.sample(100.0, 0) == 0.0
    assert rate.sample(102.0, 40) == 20.0
    assert rate.sample(110.0, 40) == 0.0  # the window slid past the burst


def test_eta_from_calls_owed_per_simulation() -> None:
    """Progress counts calls: planned per scene until scenes end, then the observed pace; an
    ended simulation owes nothing, a draining batch owes only the scenes in progress."""
    from engine.events import CallCompleted
    from engine.present.rate import progress

    state = BatchState(planned_scene_calls=10.0)
    state.started_at = 1000.0
    for i in (1, 2):
        state.add_row(SimRow(f"s{i}", ("A", "B"), num_scenes=4))
    assert eta(state, None) is None  # no rate yet: unknown
    assert progress(state).calls_planned == 80
    for i in (1, 2):
        state.apply(SimStateChanged(sim_id=f"s{i}", state="running"))
    call = {"purpose": "beat", "latency_s": 0.1, "prompt_tokens": 1, "completion_tokens": 1,
            "attempts": 1}
    for _ in range(5):  # half of the first scene of s1: the ETA moves before any scene ends
        state.apply(CallCompleted(sim_id="s1", **call))
    assert progress(state).calls_left == 75.0
    assert eta(state, 5.0) == 15.0
    state.draining = True  # only s1's and s2's current scenes are left
    assert progress(state).calls_left == 5.0 + 10.0
    state.draining = False
    for i in (1, 2):
        state.apply(SimStateChanged(sim_id=f"s{i}", state="completed"))
    assert eta(state, 5.0) == 0.0


def test_run_listing(tmp_path: Path) -> None:
    def manifest(name: str, data: dict) -> None:
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_bytes(orjson.dumps(data))

    manifest("b-run", {"created": 2.0, "status": "running", "model": "sim",
                       "spec": {"name": "b"}, "sims": {"s1": {}, "s2": {}},
                       "counts": {"running": 1, "completed": 1}})
    manifest("a-run", {"created": 1.0, "status": "completed", "model": "sim",
                       "spec": {"name": "a"}, "sims": {"s1": {}}, "counts": {"completed": 1}})
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / "manifest.json").write_text("{")
    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["a", "b"]  # oldest first; unreadable ones skipped
    assert runs[1].status == CRASHED  # "running", but no process holds its lock
    assert runs[1].sims == 2 and runs[1].unfinished == 1
    assert runs[1].counts_text() == "completed 1  running 1"
    assert list_runs(tmp_path / "missing") == []


def test_transcript_prints_model_text_literally() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    text = "[bold red]x[/] \x1b[31mred"
    print_transcript([Narration(sim_id="s1", scene_index=0, beat=1, text=text, next_actor="A")],
                     console)
    assert "[bold red]x[/] \\x1b[31mred" in out.getvalue()


def test_a_scene_counts_as_done_when_it_ended_not_when_scored() -> None:
    """Resume plays again a scene interrupted after its scores (before ``scene_ended``): the
    progress and the table must not count it."""
    from engine.events import CommitmentScored, SceneEnded
    from engine.present.rate import progress
    from engine.sim.records import CommitmentEntry, PartnerCommitment, TurningPointRef

    state = BatchState(planned_scene_calls=10.0)
    state.add_row(SimRow("s1", ("A", "B"), num_scenes=4))
    state.apply(SimStateChanged(sim_id="s1", state="running"))
    scores = {name: PartnerCommitment(agent=name, role=role, score=7, reasoning="r",
                                      satisfaction=6, alternatives=2, investment=5)
              for name, role in (("A", "A"), ("B", "B"))}
    for commitment in scores.values():
        state.apply(CommitmentScored(sim_id="s1", scene_index=0, commitment=commitment))
    assert state.rows["s1"].trajectory == {"A": [7], "B": [7]}
    assert progress(state).scenes_done == 0
    tp = TurningPointRef(id="t", category="Deepening", title="T", uncertainty="self")
    state.apply(SceneEnded(sim_id="s1", scene_index=0, entry=CommitmentEntry(
        scene_index=0, turning_point=tp, summary="s", commitments=scores)))
    assert progress(state).scenes_done == 1
    assert state.rows["s1"].scene == 1
