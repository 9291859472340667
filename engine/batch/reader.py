"""RunReader: rebuilds transcripts, commitment logs and batch state from a run directory.

Opening one simulation reads only its own lines: ``index.tsv`` maps each simulation to byte
ranges of ``events.jsonl`` (a regular-expression scan of the index, then a few seeks), and lines
written after the last indexed write (a crash between the two writes) are found by scanning just
that tail. A torn last line is ignored.

A resumed attempt appears in the log as a second ``simulation_started`` of the same attempt;
the events the crashed segment left of scenes that never ended are dropped from ``events()``
(those scenes were replayed), so every scene appears once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from engine.batch.runlog import EVENTS, INDEX, MANIFEST, truncate_torn_tail
from engine.batch.state import BatchState, SimRow
from engine.errors import ConfigError, RunDataError
from engine.events import (
    EventBase,
    MemoriesAppraised,
    SceneEnded,
    SimulationCompleted,
    SimulationStarted,
    parse_event,
)
from engine.sim.records import CommitmentEntry
from engine.sim.schemas import STATE_VARIABLES

Span = tuple[int, int, int]  # attempt, offset, length


def _index_end(index_bytes: bytes) -> int:
    """The events-file offset covered by the index (its last complete ``*`` marker)."""
    pos = len(index_bytes)
    while True:
        cut = index_bytes.rfind(b"\n*\t", 0, pos)
        start = cut + 1 if cut >= 0 else (0 if index_bytes.startswith(b"*\t") else -1)
        if start < 0:
            return 0
        end = index_bytes.find(b"\n", start)
        if end < 0:  # torn marker line: look further back
            pos = max(0, cut)
            if cut < 0:
                return 0
            continue
        return int(index_bytes[start + 2 : end])


def _scan_lines(data: bytes, base: int) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(offset, length, decoded) for each complete, decodable line of ``data``."""
    pos = 0
    n = len(data)
    while pos < n:
        end = data.find(b"\n", pos)
        if end < 0:
            return  # torn last line
        line = data[pos:end]
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            yield base + pos, end + 1 - pos, obj
        pos = end + 1


def repair_log(run_dir: Path) -> None:
    """Make a crashed run's files safe to append to: cut torn last lines and index the events
    written after the index's last entry."""
    events_size = truncate_torn_tail(run_dir / EVENTS)
    truncate_torn_tail(run_dir / INDEX)
    index_path = run_dir / INDEX
    covered = _index_end(index_path.read_bytes()) if index_path.exists() else 0
    if covered >= events_size:
        return
    with open(run_dir / EVENTS, "rb") as f:
        f.seek(covered)
        tail = f.read(events_size - covered)
    entries: list[bytes] = []
    run: list[Any] | None = None  # [sim, attempt, offset, length]
    for offset, length, obj in _scan_lines(tail, covered):
        key = (obj.get("sim_id") or "-", int(obj.get("run_attempt", 1)))
        if run is not None and (run[0], run[1]) == key and run[2] + run[3] == offset:
            run[3] += length
            continue
        if run is not None:
            entries.append(b"%s\t%d\t%d\t%d\n" % (run[0].encode(), run[1], run[2], run[3]))
        run = [key[0], key[1], offset, length]
    if run is not None:
        entries.append(b"%s\t%d\t%d\t%d\n" % (run[0].encode(), run[1], run[2], run[3]))
    entries.append(b"*\t%d\n" % events_size)
    with open(index_path, "ab") as f:
        f.write(b"".join(entries))


def clean_attempt(events: Iterable[EventBase]) -> list[EventBase]:
    """One attempt's events with the leftovers of crashed segments removed (see module doc)."""
    out: list[EventBase] = []
    completed: set[int] = set()
    started = False
    for event in events:
        if isinstance(event, SimulationStarted):
            if started:
                out = [e for e in out if _survives_resume(e, completed)]
                continue
            started = True
        elif isinstance(event, SceneEnded):
            completed.add(event.scene_index)
        out.append(event)
    return out


def _survives_resume(event: EventBase, completed: set[int]) -> bool:
    index = getattr(event, "scene_index", None)
    if index is None:
        # Without a completed scene the simulation restarted from scratch.
        return bool(completed) or not isinstance(event, MemoriesAppraised)
    return index in completed


_SIM_FIELDS = {"name_a": str, "name_b": str, "persona_a": str, "persona_b": str, "seed": int}


def read_manifest(run_dir: Path, *, deep: bool = True) -> dict[str, Any]:
    """A run directory's ``manifest.json`` (the one reader of it), checked for the shape the
    commands rely on (``deep``: each simulation's fields too; listings need only the top).
    Raises RunDataError (a ConfigError) with one sentence."""
    path = run_dir / MANIFEST
    # Pointing at something that is not a run is bad input (ConfigError); a run whose files
    # are damaged is bad run data (RunDataError).
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: not a run directory (a file; give the run's folder)")
    try:
        data = orjson.loads(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(f"{run_dir}: not a run directory (no {MANIFEST})") from None
    except orjson.JSONDecodeError as exc:
        raise RunDataError(f"{path}: unreadable manifest: {exc}") from None
    except OSError as exc:
        raise RunDataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    problem = manifest_problem(data, deep=deep)
    if problem:
        raise RunDataError(f"{path}: unreadable manifest: {problem}")
    return data  # type: ignore[no-any-return]


def manifest_problem(data: Any, *, deep: bool = True) -> str | None:
    """What makes ``data`` unusable as a manifest, or None."""
    if not isinstance(data, dict):
        return f"not a JSON object (a {type(data).__name__})"
    if not isinstance(data.get("spec"), dict):
        return "no batch spec ('spec' is missing or not an object)"
    sims = data.get("sims")
    if not isinstance(sims, dict):
        return "no simulations ('sims' is missing or not an object)"
    for sim_id, info in sims.items():
        if not isinstance(info, dict):
            return f"simulation {sim_id} is not an object"
        if not deep:
            continue
        for name, kind in _SIM_FIELDS.items():
            value = info.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                return f"simulation {sim_id}: '{name}' is missing or not a {kind.__name__}"
        attempts = info.get("attempts", [])
        if not isinstance(attempts, list) or not all(isinstance(a, dict) for a in attempts):
            return f"simulation {sim_id}: 'attempts' is not a list of objects"
    return None


class RunReader:
    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.manifest: dict[str, Any] = read_manifest(self.run_dir)
        if not (self.run_dir / EVENTS).is_file():
            raise RunDataError(
                f"{self.run_dir}: the event log {EVENTS} is missing; the run cannot be read"
            )
        # Complete lines that are JSON but not a usable event (torn lines are cut, not counted).
        self.skipped = 0
        self._index: dict[str, list[Span]] | None = None
        self._seeds: dict[tuple[str, int], int] = {}
        self._scanned = False  # state() has read every line (and every seed)

    # -- listing -------------------------------------------------------------------------------

    def sim_ids(self) -> list[str]:
        return list(self.manifest.get("sims", {}))

    def sim_info(self, sim_id: str) -> dict[str, Any]:
        try:
            return self.manifest["sims"][sim_id]  # type: ignore[no-any-return]
        except KeyError:
            raise ConfigError(f"no simulation '{sim_id}' in {self.run_dir}") from None

    # -- one simulation ------------------------------------------------------------------------

    def spans(self, sim_id: str) -> list[Span]:
        """Byte ranges of ``sim_id``'s lines, in log order."""
        if self._index is not None:
            return self._index.get(sim_id, [])
        index_bytes = self._index_bytes()
        pattern = re.compile(
            rb"^" + re.escape(sim_id.encode()) + rb"\t(\d+)\t(\d+)\t(\d+)$", re.MULTILINE
        )
        spans = [(int(a), int(o), int(n)) for a, o, n in pattern.findall(index_bytes)]
        return spans + self._tail_spans(_index_end(index_bytes)).get(sim_id, [])

    def _index_bytes(self) -> bytes:
        # A missing index is rebuilt from the log itself (the tail scan covers everything).
        try:
            return (self.run_dir / INDEX).read_bytes()
        except FileNotFoundError:
            return b""

    def _tail_spans(self, covered: int) -> dict[str, list[Span]]:
        path = self.run_dir / EVENTS
        size = path.stat().st_size
        result: dict[str, list[Span]] = defaultdict(list)
        if size <= covered:
            return result
        with open(path, "rb") as f:
            f.seek(covered)
            tail = f.read(size - covered)
        for offset, length, obj in _scan_lines(tail, covered):
            result[obj.get("sim_id") or "-"].append(
                (int(obj.get("run_attempt", 1)), offset, length)
            )
        return result

    def load_index(self) -> dict[str, list[Span]]:
        """The whole index in memory (for operations over many simulations)."""
        if self._index is None:
            index_bytes = self._index_bytes()
            index: dict[str, list[Span]] = defaultdict(list)
            for line in index_bytes.splitlines():
                parts = line.split(b"\t")
                if len(parts) == 4:
                    try:
                        index[parts[0].decode()].append(
                            (int(parts[1]), int(parts[2]), int(parts[3]))
                        )
                    except ValueError:
                        continue  # a torn line
            for sim_id, spans in self._tail_spans(_index_end(index_bytes)).items():
                index[sim_id].extend(spans)
            self._index = index
        return self._index

    def _read_spans(self, spans: list[Span], attempt: int | None) -> list[EventBase]:
        if not spans:
            return []
        wanted = max(a for a, _, _ in spans) if attempt is None else attempt
        events: list[EventBase] = []
        with open(self.run_dir / EVENTS, "rb") as f:
            for a, offset, length in spans:
                if a != wanted:
                    continue
                f.seek(offset)
                data = f.read(length)
                for _, _, obj in _scan_lines(data, offset):
                    try:
                        events.append(parse_event(obj))
                    except ValueError:
                        self.skipped += 1
                        continue
        return events

    def attempts(self, sim_id: str) -> list[int]:
        return sorted({a for a, _, _ in self.spans(sim_id)})

    def check_attempt(self, sim_id: str, attempt: int | None) -> None:
        """Raise ConfigError unless ``attempt`` (None: the latest) is one ``sim_id`` made."""
        if attempt is None:
            return
        made = self.attempts(sim_id)
        if attempt not in made:
            have = ", ".join(map(str, made)) or "none yet"
            raise ConfigError(f"{sim_id} has no attempt {attempt} (attempts: {have})")

    def raw_events(self, sim_id: str, attempt: int | None = None) -> list[EventBase]:
        """Every logged event of one attempt (latest by default), crashed segments included."""
        self.sim_info(sim_id)
        return self._read_spans(self.spans(sim_id), attempt)

    def events(self, sim_id: str, attempt: int | None = None) -> list[EventBase]:
        """One attempt's events (latest by default): the simulation's transcript."""
        return clean_attempt(self.raw_events(sim_id, attempt))

    def events_many(self, sim_ids: Iterable[str]) -> dict[str, list[EventBase]]:
        """``events()`` for many simulations, reading the index once."""
        index = self.load_index()
        return {s: clean_attempt(self._read_spans(index.get(s, []), None)) for s in sim_ids}

    def commitment_log(self, sim_id: str, attempt: int | None = None) -> list[CommitmentEntry]:
        events = self.events(sim_id, attempt)
        for event in reversed(events):
            if isinstance(event, SimulationCompleted):
                return list(event.commitment_log)
        return [e.entry for e in events if isinstance(e, SceneEnded)]

    def attempt_seed(self, sim_id: str, attempt: int) -> int | None:
        key = (sim_id, attempt)
        if key not in self._seeds and not self._scanned:
            for event in self.raw_events(sim_id, attempt):
                if isinstance(event, SimulationStarted):
                    self._seeds[key] = event.seed
                    break
        return self._seeds.get(key)

    # -- the whole run -------------------------------------------------------------------------

    def iter_objects(self) -> Iterator[dict[str, Any]]:
        """Every decodable line of the log as a dict, in file order (a torn tail is skipped)."""
        with open(self.run_dir / EVENTS, "rb") as f:
            carry = b""
            while True:
                block = f.read(1 << 22)
                if not block:
                    break
                data = carry + block
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1 :]
                for _, _, obj in _scan_lines(data[: cut + 1], 0):
                    yield obj

    def rows_state(self) -> BatchState:
        """A batch state with the manifest's rows and nothing folded in yet."""
        state = BatchState()
        spec = self.manifest.get("spec", {})
        for sim_id, info in self.manifest.get("sims", {}).items():
            state.add_row(
                SimRow(
                    sim_id=sim_id,
                    agents=(info["name_a"], info["name_b"]),
                    num_scenes=int(spec.get("scenes", 0)),
                    replicate=info.get("replicate", 0),
                    seed=info.get("seed", 0),
                )
            )
        return state

    def state(self) -> BatchState:
        """Batch state rebuilt from the log (rows from the manifest)."""
        state = self.rows_state()
        first_t: float | None = None
        last_t: float | None = None
        for obj in self.iter_objects():
            try:
                event = parse_event(obj)
            except ValueError:
                self.skipped += 1
                continue
            if first_t is None:
                first_t = event.t
            last_t = event.t
            if isinstance(event, SimulationStarted):
                self._seeds[(event.sim_id, int(obj.get("run_attempt", 1)))] = event.seed
                row = state.rows.get(event.sim_id)
                if row is not None:
                    row.seed = event.seed
            state.apply(event)
        if first_t is not None and last_t is not None:
            # Figures of a run read from disk come from the log alone, never from the clock:
            # the same answer on every call. The manifest's wall_s (summed over the sessions
            # that ran it) wins over first-to-last event, which would count the pauses.
            wall = self.manifest.get("wall_s")
            state.started_at = first_t
            state.finished_at = (
                first_t + float(wall) if isinstance(wall, int | float) and wall > 0 else last_t
            )
        self._scanned = True
        return state

    def scene_rows(self) -> list[dict[str, Any]]:
        """One row per simulation × scene × partner (latest attempt), for analysis."""
        sims = self.manifest.get("sims", {})
        latest: dict[str, int] = {}
        entries: dict[tuple[str, int], dict[int, dict[str, Any]]] = defaultdict(dict)
        seeds: dict[tuple[str, int], int] = {}
        states: dict[tuple[str, int, int], dict[str, Any]] = {}
        approaches: dict[tuple[str, int, int, str], list[str]] = defaultdict(list)
        outcomes: dict[tuple[str, int], tuple[Any, bool]] = {}
        for obj in self.iter_objects():
            try:
                self._fold_row_event(obj, latest, entries, seeds, states, approaches, outcomes)
            except (KeyError, TypeError, ValueError, AttributeError):
                self.skipped += 1  # JSON, but not a usable event: skipped and counted
        model = self.manifest.get("model", "")
        rows: list[dict[str, Any]] = []
        for sim_id, info in sims.items():
            attempt = latest.get(sim_id, 1)
            persona_ids = {
                info["name_a"]: Path(info["persona_a"]).stem,
                info["name_b"]: Path(info["persona_b"]).stem,
            }
            outcome, ended_early = outcomes.get((sim_id, attempt), (None, False))
            for scene_index, entry in sorted(entries.get((sim_id, attempt), {}).items()):
                try:
                    rows.extend(self._scene_rows(sim_id, info, attempt, scene_index, entry,
                                                 persona_ids, seeds, states, approaches,
                                                 outcome, ended_early, model))
                except (KeyError, TypeError, ValueError, AttributeError):
                    self.skipped += 1
        return rows

    @staticmethod
    def _fold_row_event(obj: dict[str, Any], latest: dict[str, int],
                        entries: dict[tuple[str, int], dict[int, dict[str, Any]]],
                        seeds: dict[tuple[str, int], int],
                        states: dict[tuple[str, int, int], dict[str, Any]],
                        approaches: dict[tuple[str, int, int, str], list[str]],
                        outcomes: dict[tuple[str, int], tuple[Any, bool]]) -> None:
        kind = obj.get("type")
        sim_id = obj.get("sim_id", "")
        attempt = int(obj.get("run_attempt", 1))
        if kind == "sim_state" or kind == "simulation_started":
            latest[sim_id] = max(latest.get(sim_id, 0), attempt)
            if kind == "simulation_started":
                seeds[(sim_id, attempt)] = obj.get("seed", 0)
        elif kind == "scene_ended":
            entry = obj["entry"]
            if not isinstance(entry, dict) or not isinstance(entry.get("commitments"), dict):
                raise TypeError("scene_ended without a commitment entry")
            entries[(sim_id, attempt)][int(obj["scene_index"])] = entry
        elif kind == "state_inferred":
            states[(sim_id, attempt, obj["scene_index"])] = obj.get("state", {})
        elif kind == "action" and obj.get("approach"):
            approaches[(sim_id, attempt, obj["scene_index"], obj["agent"])].append(
                obj["approach"]
            )
        elif kind == "simulation_completed":
            outcomes[(sim_id, attempt)] = (obj.get("outcome"), obj.get("ended_early", False))

    def _scene_rows(self, sim_id: str, info: dict[str, Any], attempt: int, scene_index: int,
                    entry: dict[str, Any], persona_ids: dict[str, str],
                    seeds: dict[tuple[str, int], int],
                    states: dict[tuple[str, int, int], dict[str, Any]],
                    approaches: dict[tuple[str, int, int, str], list[str]],
                    outcome: Any, ended_early: bool, model: str) -> list[dict[str, Any]]:
        """One row per partner of one scene (raises KeyError/TypeError on a malformed entry)."""
        rows: list[dict[str, Any]] = []
        tp = entry["turning_point"]
        state = states.get((sim_id, attempt, scene_index), {})
        # One column per state variable (empty for runs made before states existed).
        state_cols = {
            f"state_{name}": (state.get(name) or {}).get("value", "")
            for name in STATE_VARIABLES
        }
        for agent, c in entry["commitments"].items():
            rows.append(
                {
                    "run": self.run_dir.name,
                    "sim_id": sim_id,
                    "attempt": attempt,
                    "replicate": info.get("replicate", 0),
                    "seed": seeds.get((sim_id, attempt), info.get("seed", 0)),
                    "model": model,
                    "partner_a": info["name_a"],
                    "partner_b": info["name_b"],
                    "scene_index": scene_index,
                    "turning_point": tp["id"],
                    "turning_point_title": tp["title"],
                    "category": tp["category"],
                    "uncertainty": tp["uncertainty"],
                    "agent": agent,
                    "role": c["role"],
                    "persona_id": persona_ids.get(agent, ""),
                    "commitment": c["score"],
                    "satisfaction": c["satisfaction"],
                    "alternatives": c["alternatives"],
                    "investment": c["investment"],
                    "commitment_spread": c.get("spread", 0.0),
                    # The approach tags of this partner's chosen options, in order.
                    "approaches": ";".join(
                        approaches.get((sim_id, attempt, scene_index, agent), [])
                    ),
                    **state_cols,
                    "outcome": outcome or "",
                    "ended_early": ended_early,
                }
            )
        return rows


def read_new_events(
    run_dir: Path, offset: int, max_bytes: int = 1 << 23
) -> tuple[list[EventBase], int]:
    """The events appended to ``run_dir``'s log since byte ``offset`` and the offset to read
    from next: complete lines only, so a line still being written is read on the next call
    (tail-follow of a log another process writes). At most ``max_bytes`` are read per call."""
    path = Path(run_dir) / EVENTS
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return [], offset
    if size <= offset:
        return [], offset
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(min(size - offset, max_bytes))
    cut = data.rfind(b"\n")
    if cut < 0:
        return [], offset
    events: list[EventBase] = []
    for _, _, obj in _scan_lines(data[: cut + 1], offset):
        try:
            events.append(parse_event(obj))
        except ValueError:
            continue
    return events, offset + cut + 1
