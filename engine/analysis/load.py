"""A run directory as tidy tables: one row per simulation × scene × partner, one per simulation.

Only the few fields analysis needs are read: from the run's sidecar ``facts.jsonl`` (written
with the log, ``engine.batch.facts``), or for a run without one from the log itself, scanned
once for the ``"type":"…"`` markers of a few event types (a C-speed regular expression over the
memory-mapped file); both give the same tables. After-action reports (``keep_reports``) are
only in the log: a load that wants them scans it.
Event types of the RELATE-Sim method (``state_inferred``, ``after_action_report``,
``simulation_completed.outcome``) are read as raw dicts by their type string; runs without them
get no such columns (never filled in).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from engine.analysis.cache import cache_key, read_tables, write_tables
from engine.batch.facts import KINDS, project, read_facts, scan_events
from engine.batch.gctune import paused_gc
from engine.batch.layout import EVENTS, MANIFEST
from engine.errors import ConfigError

WANTED = (*KINDS, "after_action_report")
# Spec fields that are facts of the whole run and make sense as a grouping factor.
SPEC_FACTORS = ("model", "scenes", "beats", "pairing", "seed", "name")


@dataclass
class RunData:
    """What analysis knows about one run."""

    run_dir: Path
    manifest: dict[str, Any]
    scenes: pl.DataFrame  # simulation × scene × partner
    sims: pl.DataFrame  # one row per simulation
    states: pl.DataFrame  # simulation × scene × state variable (empty without the method)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # sim_id -> AAR
    factors: list[str] = field(default_factory=list)  # batch-factor columns of ``sims``

    @property
    def has_outcomes(self) -> bool:
        return "outcome" in self.sims.columns

    @property
    def has_states(self) -> bool:
        return self.states.height > 0

    @property
    def name(self) -> str:
        return self.run_dir.name


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / MANIFEST
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: no such run directory")
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{run_dir}: not a run directory (no {MANIFEST})") from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: unreadable manifest: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("sims"), dict):
        raise ConfigError(f"{path}: not a relsim manifest (no 'sims')")
    return data


def _persona_facts(paths: set[str]) -> dict[str, tuple[str, str]]:
    """persona file path -> (persona id, attachment style); a missing file gives its stem and
    "unknown" (a run copied from another machine still loads)."""
    from engine.sim.personas import load_persona
    from engine.sim.sources import persona_file

    out: dict[str, tuple[str, str]] = {}
    for path in paths:
        stem = Path(path).stem
        candidates = [Path(path), persona_file(stem) or Path(path)]
        style = "unknown"
        for candidate in candidates:
            if candidate.is_file():
                try:
                    style = load_persona(candidate).attachment_style or "unknown"
                except Exception:  # an unreadable persona file: the style stays unknown
                    continue
                break
        out[path] = (stem, style)
    return out


def _latest_attempts(sims: dict[str, Any], started: list[dict[str, Any]]) -> dict[str, int]:
    latest = {sid: int(info.get("attempt", 1) or 1) for sid, info in sims.items()}
    for obj in started:
        sid = obj.get("sim_id", "")
        latest[sid] = max(latest.get(sid, 1), int(obj.get("run_attempt", 1)))
    return latest


def _read_lines(run_dir: Path, completed: set[str], keep_reports: bool
                ) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The lines of ``KINDS`` by type (projected from the sidecar, or whole from the log: the
    same fields), and the after-action reports if wanted."""
    # Reports are only in the log: one scan for all then (as without a usable sidecar).
    lines = None if keep_reports else read_facts(run_dir)
    if lines is not None:
        return lines, []
    done = {sid.encode() for sid in completed}
    kinds = WANTED if keep_reports else KINDS
    found = scan_events(run_dir / EVENTS, kinds,
                        skip={"scene_ended": done, "simulation_started": done})
    # State values as the sidecar holds them (strings without evidence). The other lines are
    # used whole: their projection keeps every field read here (tests/analysis/test_facts.py).
    found["state_inferred"] = [project(o) for o in found["state_inferred"]]
    return {k: found[k] for k in KINDS}, found.get("after_action_report", [])


def load_run(run_dir: str | Path, *, keep_reports: bool = True) -> RunData:
    """Read ``run_dir`` into tables (see the module doc). Raises ConfigError on a bad input.
    ``keep_reports=False`` does not read after-action reports at all (no ``reports``, no
    ``predicted_*`` columns): aggregates, comparisons and evaluation do not use them."""
    with paused_gc():  # a large run's lines decode to a million objects, none in a cycle
        return _load_run(Path(run_dir), keep_reports)


def _load_run(run_dir: Path, keep_reports: bool) -> RunData:
    manifest = read_manifest(run_dir)
    sims_info: dict[str, dict[str, Any]] = manifest["sims"]
    spec = manifest.get("spec") if isinstance(manifest.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    facts = _persona_facts({str(i[k]) for i in sims_info.values() for k in ("persona_a",
                                                                             "persona_b")})
    model = str(manifest.get("model") or spec.get("model") or "")
    constant = {k: spec.get(k) for k in SPEC_FACTORS if k in spec and k != "model"}
    factor_keys: list[str] = []
    for info in sims_info.values():
        for k in (info.get("factors") or {}):
            if k not in factor_keys:
                factor_keys.append(str(k))
    factors = ["replicate", *factor_keys, *[k for k in constant if k != "seed"]]
    # Reports are not cached (only the tables): a load that wants them reads the log.
    cache_id = None if keep_reports else cache_key(run_dir, manifest, facts)
    cached = read_tables(run_dir, cache_id) if cache_id is not None else None
    if cached is not None:
        scenes_df, sims_df, states_df = cached
        return RunData(run_dir=run_dir, manifest=manifest, scenes=scenes_df, sims=sims_df,
                       states=states_df, factors=factors)
    # A completed simulation's scene scores and plan are all in its simulation_completed line
    # (its seed in the manifest): its scene_ended and simulation_started lines are not used
    # (nor decoded by a scan of the log: most of a finished run's cost).
    completed = {sid for sid, info in sims_info.items() if info.get("status") == "completed"}
    lines, report_lines = _read_lines(run_dir, completed, keep_reports)
    started = [o for o in lines["simulation_started"] if o.get("sim_id") not in completed]
    ended = [o for o in lines["scene_ended"] if o.get("sim_id") not in completed]
    latest = _latest_attempts(sims_info, started)

    def current(obj: dict[str, Any]) -> bool:
        return int(obj.get("run_attempt", 1)) == latest.get(obj.get("sim_id", ""), 1)

    seeds: dict[str, int] = {}
    plans: dict[str, str] = {}
    # Under a state-driven policy the scenes played are an outcome, not a condition: what two
    # runs share is the policy (comparing on the played scenes would pair almost nothing).
    policy = spec.get("policy")
    dynamic_plan = f"policy {policy}" if policy in ("state", "scene_master") else ""
    for obj in started:
        if current(obj):
            seeds[obj["sim_id"]] = int(obj.get("seed", 0))
            plan = obj.get("plan") or []
            plans.setdefault(obj["sim_id"], ",".join(str(tp.get("id", "")) for tp in plan))
    entries: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for obj in ended:
        if current(obj):
            entries[obj["sim_id"]][int(obj["scene_index"])] = obj["entry"]
    outcomes: dict[str, Any] = {}
    ended_early: dict[str, bool] = {}
    any_outcome = False
    for obj in lines["simulation_completed"]:
        if not current(obj):
            continue
        sid = obj["sim_id"]
        log = obj.get("commitment_log") or []
        for entry in log:
            entries[sid].setdefault(int(entry["scene_index"]), entry)
        if log and sid not in plans:
            plans[sid] = ",".join(str(e["turning_point"]["id"]) for e in log)
        if "outcome" in obj:
            any_outcome = True
            outcomes[sid] = obj.get("outcome")
            ended_early[sid] = bool(obj.get("ended_early", False))
    # Columns, not a dict per row: 10,000 simulations infer 160,000 state values (already
    # strings: the lines are projected, engine.batch.facts.project).
    st_sim: list[str] = []
    st_scene: list[int] = []
    st_var: list[str] = []
    st_value: list[str] = []
    st_fallback: list[bool] = []
    final_state: dict[str, dict[str, str]] = {}
    for obj in lines["state_inferred"]:
        if not current(obj):
            continue
        sid = obj["sim_id"]
        values = obj.get("state") or {}
        n = len(values)
        st_sim += [sid] * n
        st_scene += [int(obj.get("scene_index", 0))] * n
        st_var += values
        st_value += values.values()
        st_fallback += [bool(obj.get("fallback", False))] * n
        final_state[sid] = values
    reports: dict[str, dict[str, Any]] = {}
    for obj in report_lines:
        if current(obj):
            reports[obj["sim_id"]] = obj

    # One tuple per scene row (transposed into columns below); the row's simulation-level
    # columns are gathered from ``base`` by position (in polars), not repeated in Python.
    scene_rows: list[tuple[Any, ...]] = []
    add_row = scene_rows.append
    sim_rows: list[dict[str, Any]] = []
    base_keys = ["sim_id", "replicate", "seed", "model", "pair", "attachment_pair", *factor_keys]
    state_vars: dict[str, None] = {}  # every simulation's final-state variables, in order seen
    no_partner = ("", "unknown", "")
    couples: dict[tuple[str, str], tuple[str, str, str, str, str, str]] = {}
    for position, (sid, info) in enumerate(sims_info.items()):
        key = (str(info["persona_a"]), str(info["persona_b"]))
        couple = couples.get(key)
        if couple is None:  # 10,000 simulations are a few dozen couples
            (id_a, att_a), (id_b, att_b) = facts[key[0]], facts[key[1]]
            couple = couples[key] = (id_a, att_a, id_b, att_b, " × ".join(sorted((id_a, id_b))),
                                     "–".join(sorted((att_a, att_b))))
        id_a, att_a, id_b, att_b, pair, att_pair = couple
        name_a, name_b = info["name_a"], info["name_b"]
        names = {name_a: (id_a, att_a, id_b), name_b: (id_b, att_b, id_a)}
        attempts = info.get("attempts") or [{}]
        seed = seeds.get(sid, attempts[-1].get("seed", info.get("seed", 0)))
        # In the order (and with the overrides) of one dict per simulation with these keys.
        row: dict[str, Any] = {
            "sim_id": sid, "replicate": int(info.get("replicate", 0)), "seed": int(seed or 0),
            "model": model, "pair": pair, "attachment_pair": att_pair,
        }
        if factor_keys:
            given = info.get("factors") or {}
            row.update({k: given.get(k) for k in factor_keys})
        finals: dict[str, int] = {}
        scenes = entries.get(sid, {})
        for scene_index in sorted(scenes):
            entry = scenes[scene_index]
            tp = entry.get("turning_point") or {}
            tp_id, category = tp.get("id", ""), tp.get("category", "")
            for agent, c in (entry.get("commitments") or {}).items():
                score = int(c["score"])
                add_row((position, scene_index, tp_id, category, agent, c.get("role", ""),
                         *names.get(agent, no_partner), score,
                         int(c.get("satisfaction", 0)), int(c.get("alternatives", 0)),
                         int(c.get("investment", 0))))
                finals[agent] = score
        final_a, final_b = finals.get(name_a), finals.get(name_b)
        both = [v for v in (final_a, final_b) if v is not None]
        row.update({
            "status": str(info.get("status", "pending")), "persona_a": id_a, "persona_b": id_b,
            "name_a": name_a, "name_b": name_b, "attachment_a": att_a, "attachment_b": att_b,
            "plan": dynamic_plan or plans.get(sid, ""), "scenes_done": len(scenes),
            "final_a": final_a, "final_b": final_b,
            "final_commitment": sum(both) / len(both) if both else None,
        })
        if any_outcome:
            row["outcome"] = outcomes.get(sid)
            row["ended_early"] = ended_early.get(sid)
        if reports:
            report = reports.get(sid) or {}
            row["predicted_outcome"] = report.get("predicted_outcome")
            row["predicted_probability"] = report.get("probability")
        sim_rows.append(row)
        state_vars.update(dict.fromkeys(final_state.get(sid) or ()))
    # Every row has the same keys (run-level conditions above): columns in their order.
    sim_cols = {key: [row[key] for row in sim_rows] for key in (sim_rows[0] if sim_rows else ())}
    for variable in state_vars:
        # A simulation without the variable has no value (as a missing key of a row).
        sim_cols[f"state_{variable}"] = [(final_state.get(sid) or {}).get(variable)
                                         for sid in sims_info]

    scene_schema = {"scene_index": pl.Int32, "commitment": pl.Int8, "satisfaction": pl.Int8,
                    "alternatives": pl.Int8, "investment": pl.Int8, "replicate": pl.Int32,
                    "seed": pl.Int64}
    if scene_rows:
        columns = list(zip(*scene_rows, strict=True))
        base_df = pl.DataFrame({k: sim_cols[k] for k in base_keys}, strict=False)
        names_of = ("scene_index", "turning_point", "category", "agent", "role", "persona",
                    "attachment", "partner", "commitment", "satisfaction", "alternatives",
                    "investment")
        rows_df = pl.DataFrame(dict(zip(names_of, columns[1:], strict=True)), strict=False)
        scenes_df = pl.concat([base_df[pl.Series(columns[0])], rows_df.select(
            "scene_index", "turning_point", "category", "agent", "role", "persona", "partner",
            "attachment", "commitment", "satisfaction", "alternatives", "investment",
        )], how="horizontal").with_columns([pl.col(k).cast(v) for k, v in scene_schema.items()])
    else:
        scenes_df = pl.DataFrame(schema={"sim_id": pl.Utf8, "scene_index": pl.Int32,
                                         "persona": pl.Utf8, "commitment": pl.Int8})
    sims_df = pl.DataFrame(sim_cols, strict=False) if sim_rows else pl.DataFrame(
        schema={"sim_id": pl.Utf8})
    for key, value in constant.items():
        if key not in sims_df.columns and value is not None and not isinstance(value, list | dict):
            sims_df = sims_df.with_columns(pl.lit(value).alias(key))
    states_df = pl.DataFrame(
        {"sim_id": st_sim, "scene_index": st_scene, "variable": st_var, "value": st_value,
         "fallback": st_fallback},
        schema={"sim_id": pl.Utf8, "scene_index": pl.Int32, "variable": pl.Utf8,
                "value": pl.Utf8, "fallback": pl.Boolean})
    if cache_id is not None:
        write_tables(run_dir, cache_id, (scenes_df, sims_df, states_df))
    return RunData(run_dir=run_dir, manifest=manifest, scenes=scenes_df, sims=sims_df,
                   states=states_df, reports=reports if keep_reports else {}, factors=factors)
