"""relsim analyze / compare / evaluate / report end to end on small simulator runs."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from engine.analysis.load import load_run
from engine.cli import main

PERSONAS = '["aiko-tanaka", "kwame-asante", "lena-fischer"]'


def make_run(tmp_path: Path, name: str, beats: int = 1) -> Path:
    batch = tmp_path / f"{name}.toml"
    batch.write_text(f'name = "{name}"\npersonas = {PERSONAS}\nscenes = 3\nbeats = {beats}\n'
                     f'replicates = 3\nmodel = "sim"\nseed = 5\nout = "{tmp_path / "logs"}"\n')
    before = set((tmp_path / "logs").glob("*")) if (tmp_path / "logs").exists() else set()
    assert main(["run", str(batch)]) == 0
    (run_dir,) = set((tmp_path / "logs").glob("*")) - before
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("runs")
    return make_run(tmp, "a", beats=1), make_run(tmp, "b", beats=2)


def export_rows(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    assert main(["export", str(run_dir)]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_analyze_json_matches_the_export(runs: tuple[Path, Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    run_a, _ = runs
    rows = export_rows(run_a, capsys)
    assert main(["analyze", str(run_a), "--format", "json", "--by", "pair"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["simulations"] == 9 and out["by"] == "pair"
    # Mean after scene 1 of one pair, computed here from the exported rows.
    pair = sorted(["aiko-tanaka", "kwame-asante"])
    per_sim: dict[str, list[float]] = {}
    for r in rows:
        if r["scene_index"] == "0" and r["partner_a"] == "Aiko Tanaka" and \
                r["partner_b"] == "Kwame Asante":
            per_sim.setdefault(r["sim_id"], []).append(float(r["commitment"]))
    expected = sum(sum(v) / 2 for v in per_sim.values()) / len(per_sim)
    (got,) = [t for t in out["trajectory"]
              if t["group"] == " × ".join(pair) and t["scene_index"] == 0]
    assert got["n"] == 3 and abs(got["value" if "value" in got else "mean"] - expected) < 1e-9
    assert sum(h["count"] for h in out["histogram"]) == 9
    # The method's events are in the run: every simulation has an outcome, and each scene's
    # eight state variables are counted (the absent case is tested on a run without them).
    assert sum(o["n"] for o in out["outcomes"]) == 9
    assert {m["variable"] for m in out["markers"]} == {
        "conflict", "repair_outcome", "clarity", "constraints", "alternatives", "transition",
        "network", "breakup_marker"}


def test_analyze_table_and_csv(runs: tuple[Path, Path],
                               capsys: pytest.CaptureFixture[str]) -> None:
    run_a, _ = runs
    assert main(["analyze", str(run_a), "--by", "attachment-pair"]) == 0
    text = capsys.readouterr().out
    assert "Mean commitment after each scene" in text and "95%" in text
    assert main(["analyze", str(run_a), "--format", "csv", "--by", "persona"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    finals = [r for r in rows if r["section"] == "final"]
    assert {r["group"] for r in finals} == {"aiko-tanaka", "kwame-asante", "lena-fischer"}
    assert all(int(r["n"]) == 6 for r in finals)  # each persona: 2 pairs × 3 replicates
    assert main(["analyze", str(run_a), "--by", "nonsense"]) == 2
    assert "unknown factor" in capsys.readouterr().err


def test_compare_pairs_by_personas_plan_and_seed(runs: tuple[Path, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run_a, run_b = runs
    assert main(["compare", str(run_a), str(run_b), "--format", "json", "--by", "pair"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["overall"]["n"] == 9 and len(out["groups"]) == 3
    a, b = load_run(run_a).sims, load_run(run_b).sims
    diff = (b["final_commitment"] - a["final_commitment"]).mean()
    assert abs(out["overall"]["commitment"]["difference"]["value"] - diff) < 1e-6
    # A run against itself: zero difference, nothing to test.
    assert main(["compare", str(run_a), str(run_a), "--format", "json"]) == 0
    same = json.loads(capsys.readouterr().out)
    assert same["overall"]["commitment"]["difference"]["value"] == 0
    assert main(["compare", str(run_a), str(run_b)]) == 0
    assert "B − A" in capsys.readouterr().out


def test_compare_without_overlap_is_a_clear_error(runs: tuple[Path, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    run_a, _ = runs
    other = tmp_path / "other.toml"
    other.write_text(f'name = "o"\npersonas = ["jun-park", "noor-haddad"]\nscenes = 3\n'
                     f'beats = 1\nmodel = "sim"\nout = "{tmp_path / "logs"}"\n')
    assert main(["run", str(other)]) == 0
    (run_o,) = list((tmp_path / "logs").glob("*"))
    capsys.readouterr()
    assert main(["compare", str(run_a), str(run_o)]) == 2
    err = capsys.readouterr().err
    assert "nothing to compare" in err and err.count("\n") == 1


def test_evaluate_against_the_baseline(runs: tuple[Path, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    run_a, _ = runs
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text("# invented\ncouple_id,outcome,followup\n"
                        "aiko-tanaka+kwame-asante,together,24\n"
                        "kwame-asante+lena-fischer,separated,24\n"
                        "lena-fischer+aiko-tanaka,together,12\n"
                        "jun-park+noor-haddad,separated,24\n")
    assert main(["evaluate", str(run_a), "--outcomes", str(outcomes), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["couples"] == 3 and out["unmatched"] == ["jun-park+noor-haddad"]
    sims = load_run(run_a).sims
    rows = {r["couple"]: r for r in out["couple_rows"]}
    k = rows["aiko-tanaka+kwame-asante"]
    mask = ((sims["persona_a"] == "aiko-tanaka") & (sims["persona_b"] == "kwame-asante"))
    assert abs(k["sim_commitment"] - sims.filter(mask)["final_commitment"].mean()) < 1e-9
    correct = [(r["sim_score"] >= 0.5) == (r["observed"] == "together") for r in rows.values()]
    assert out["simulation"]["accuracy"]["value"] == pytest.approx(sum(correct) / 3)
    assert 0 <= out["baseline"]["accuracy"]["value"] <= 1
    assert all(0 <= r["baseline_probability"] <= 1 for r in rows.values())
    assert "mcnemar" in out["paired"]
    assert main(["evaluate", str(run_a), "--outcomes", str(outcomes)]) == 0
    assert "personas-only baseline" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    ("couple_id,result\na+b,together\n", "needs columns"),
    ("couple_id,outcome\naiko-tanaka+kwame-asante,married\n", "together or separated"),
    ("couple_id,outcome\naiko-tanaka,together\n", "couple_id must be"),
])
def test_evaluate_bad_csv(runs: tuple[Path, Path], tmp_path: Path, content: str, message: str,
                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["evaluate", str(runs[0]), "--outcomes", str(path), "--no-baseline"]) == 2
    assert message in capsys.readouterr().err


def test_missing_run_is_a_clear_error(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["analyze"], ["report"], ["compare", str(tmp_path / "x")]):
        assert main([*command, str(tmp_path / "nope")]) == 2
        assert "no such run directory" in capsys.readouterr().err


def test_shipped_example_outcomes_are_marked_invented() -> None:
    path = Path(__file__).parents[2] / "personas" / "outcomes-example.csv"
    assert "INVENTED" in path.read_text().splitlines()[0]
    from engine.analysis.evaluate import read_outcomes

    assert len(read_outcomes(path)) == 91


METHOD_EVENTS = {"state_inferred", "after_action_report", "scene_selected", "options_framed"}


def strip_method_events(run_dir: Path, tmp_path: Path) -> Path:
    """A copy of the run as relsim wrote runs before the RELATE-Sim method: no state, report,
    selection or options events and no outcome. The index goes too (byte ranges moved); the
    reader then scans the whole log."""
    copy = tmp_path / "before-method"
    shutil.copytree(run_dir, copy)
    kept = []
    for line in (copy / "events.jsonl").read_bytes().splitlines():
        obj = json.loads(line)
        if obj["type"] in METHOD_EVENTS:
            continue
        obj.pop("outcome", None)
        obj.pop("ended_early", None)
        kept.append(json.dumps(obj, separators=(",", ":")) + "\n")
    (copy / "events.jsonl").write_text("".join(kept))
    (copy / "index.tsv").unlink(missing_ok=True)
    return copy


def test_runs_without_method_events_have_no_outcome_or_marker_columns(
        runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = strip_method_events(runs[0], tmp_path)
    assert main(["analyze", str(run), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["simulations"] == 9
    assert out["outcomes"] is None and out["markers"] is None  # absent, not faked


def add_method_events(run_dir: Path, tmp_path: Path) -> Path:
    """A copy of the run (stripped of its own method events) with RELATE-Sim method events
    appended, raw, as CONTRACT12 names them (outcome on a second simulation_completed line, as
    a resumed run could write)."""
    copy = strip_method_events(run_dir, tmp_path / "stripped")
    sims = json.loads((copy / "manifest.json").read_text())["sims"]
    lines = []
    for n, sid in enumerate(sims):
        state = {"conflict": {"value": "active" if n % 2 else "repaired", "evidence": "e"},
                 "breakup_marker": {"value": "soft" if n % 3 == 0 else "none", "evidence": "e"}}
        lines.append({"sim_id": sid, "t": 1.0, "type": "state_inferred", "scene_index": 2,
                      "state": state, "fallback": False, "run_attempt": 1})
        lines.append({"sim_id": sid, "t": 2.0, "type": "after_action_report",
                      "trajectory": "steady <b>", "key_scenes": [{"scene_index": 1,
                      "change": -1.0, "why": "a fight"}], "risk_markers": ["stonewalling"],
                      "strength_markers": ["repair"], "predicted_outcome": "together",
                      "probability": 0.7, "fallback": False, "run_attempt": 1})
        lines.append({"sim_id": sid, "t": 3.0, "type": "simulation_completed",
                      "commitment_log": [], "outcome": "separated" if n % 3 == 0 else
                      "together", "ended_early": False, "run_attempt": 1})
    with open(copy / "events.jsonl", "a") as f:
        # Compact, as the run-log writer (orjson) emits every line.
        f.writelines(json.dumps(obj, separators=(",", ":")) + "\n" for obj in lines)
    return copy


def test_method_events_are_used_when_present(runs: tuple[Path, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run = add_method_events(runs[0], tmp_path)
    data = load_run(run)
    assert data.has_outcomes and data.has_states and len(data.reports) == 9
    assert data.sims["outcome"].to_list().count("separated") == 3
    assert main(["analyze", str(run), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (overall,) = out["outcomes"]
    assert overall["separated"] == 3 and overall["n"] == 9
    markers = {(m["variable"], m["value"]): m for m in out["markers"]}
    assert markers[("conflict", "active")]["scenes"] == 4
    assert markers[("breakup_marker", "soft")]["share"] == pytest.approx(3 / 9)
    report = tmp_path / "r.html"
    assert main(["report", str(run), "-o", str(report)]) == 0
    html = report.read_text()
    assert "steady &lt;b&gt;" in html and "stonewalling" in html  # escaped model text
    assert "State markers" in html and "share separated" in html


def test_a_finished_run_is_analysed_again_from_its_cache(runs: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    """The tables come back equal from the cache, and a log that changed is read again."""
    from engine.analysis.cache import DIR

    run = tmp_path / "copy"
    shutil.copytree(runs[0], run)
    shutil.rmtree(run / DIR, ignore_errors=True)
    first = load_run(run, keep_reports=False)
    assert (run / DIR / "key.json").is_file()
    again = load_run(run, keep_reports=False)
    for name in ("scenes", "sims", "states"):
        assert getattr(again, name).equals(getattr(first, name)), name
    assert again.factors == first.factors
    # Appended method events (a changed log) invalidate the cache: they are seen.
    changed = add_method_events(run, tmp_path)
    assert load_run(changed, keep_reports=False).has_outcomes
    assert load_run(changed, keep_reports=False).has_outcomes  # and from its own cache
    # Without the cache the same tables are built (the cache is an optimisation only).
    shutil.rmtree(changed / DIR)
    rebuilt = load_run(changed, keep_reports=False)
    assert rebuilt.sims.equals(load_run(changed, keep_reports=False).sims)
