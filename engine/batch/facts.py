"""``facts.jsonl``: the few fields of a run's log that analysis reads, written as the run goes.

``relsim analyze`` needs a few hundred bytes of each simulation's ~30 KB of log: seed and plan,
each scene's turning point and per-partner scores, the inferred state values, the outcome.
Finding them in a 300 MB log takes a scan of all of it, so the run-log writer also appends, for
each event of ``KINDS``, its projection (``project``: the event's own keys, only the fields
analysis reads, no reasoning, evidence or dialogue) to this sidecar, scrubbed like the log::

    {"facts":1}                                     the format, first line
    {"sim_id":"s00001","type":"scene_ended",…}      one per event of KINDS, in log order
    {"upto":N,"tail":"…"}                           after each write: the log's size covered,
                                                    and a hash of the log's bytes before it

A reader (``read_facts``) trusts the facts only for the log prefix the last ``upto`` names, and
only while the log's bytes there still match ``tail``; events beyond it (a run being written,
one an older relsim appended to) are scanned from the log and projected the same way, so the
lines analysis gets are the same as from a scan of the whole log. A sidecar is started only
with a new, empty log: a run from before sidecars never gets one (its earlier events would be
missing) and is read by a scan of its log, which gives the same fields: both ways build the
same tables (tests/analysis/test_facts.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import re
from pathlib import Path
from typing import Any

import orjson

from engine.batch.layout import EVENTS, FACTS
from engine.redact import scrub_bytes

FORMAT = 1
HEADER = b'{"facts":%d}\n' % FORMAT
KINDS = ("simulation_started", "scene_ended", "simulation_completed", "state_inferred")
TAIL = 4096  # bytes of the log hashed into each marker


# -- projection -------------------------------------------------------------------------------

_COMMON = ("sim_id", "type", "run_attempt")
_SCORES = ("role", "score", "satisfaction", "alternatives", "investment")


def _pick(obj: Any, keys: tuple[str, ...]) -> Any:
    # Anything but a dict is kept as is: analysis then meets exactly what the log holds.
    return {k: obj[k] for k in keys if k in obj} if isinstance(obj, dict) else obj


# Each part has a fast path for the shape every event of the writer has (a run's projection is
# 60,000 lines at 10,000 simulations) and falls back to keeping whatever there is of it.

def _scores(c: Any) -> Any:
    try:
        return {"role": c["role"], "score": c["score"], "satisfaction": c["satisfaction"],
                "alternatives": c["alternatives"], "investment": c["investment"]}
    except (KeyError, TypeError):
        return _pick(c, _SCORES)


def _entry(entry: Any) -> Any:
    try:
        tp = entry["turning_point"]
        return {"scene_index": entry["scene_index"],
                "turning_point": {"id": tp["id"], "category": tp["category"]},
                "commitments": {agent: _scores(c) for agent, c in entry["commitments"].items()}}
    except (KeyError, TypeError, AttributeError):
        pass
    if not isinstance(entry, dict):
        return entry
    out = _pick(entry, ("scene_index",))
    if "turning_point" in entry:
        out["turning_point"] = _pick(entry["turning_point"], ("id", "category"))
    if "commitments" in entry:
        commitments = entry["commitments"]
        out["commitments"] = ({agent: _scores(c) for agent, c in commitments.items()}
                              if isinstance(commitments, dict) else commitments)
    return out


def _plan(plan: Any) -> Any:
    if not isinstance(plan, list):
        return plan
    return [_pick(tp, ("id",)) for tp in plan]


def _log(log: Any) -> Any:
    return [_entry(entry) for entry in log] if isinstance(log, list) else log


def _state(state: Any) -> Any:
    if not isinstance(state, dict):
        return state
    # Each variable's value without its evidence, as analysis reads it (a string).
    return {k: str(v.get("value") if isinstance(v, dict) else v) for k, v in state.items()}


# kind -> (plain fields, (nested field, its projection))
_PARTS: dict[Any, tuple[tuple[str, ...], tuple[str, Any]]] = {
    "simulation_started": (("seed",), ("plan", _plan)),
    "scene_ended": (("scene_index",), ("entry", _entry)),
    "simulation_completed": (("outcome", "ended_early"), ("commitment_log", _log)),
    "state_inferred": (("scene_index", "fallback"), ("state", _state)),
}


def project(obj: dict[str, Any]) -> dict[str, Any]:
    """The fields of a ``KINDS`` event that ``engine.analysis.load`` reads, under their keys."""
    out = {k: obj[k] for k in _COMMON if k in obj}
    parts = _PARTS.get(obj.get("type"))
    if parts is not None:
        plain, (key, part) = parts
        for k in plain:
            if k in obj:
                out[k] = obj[k]
        if key in obj:
            out[key] = part(obj[key])
    return out


def fingerprint(data: bytes) -> str:
    """The hash of the last ``TAIL`` bytes of ``data`` (the log up to a marker)."""
    return hashlib.blake2b(data[-TAIL:], digest_size=8).hexdigest()


def marker(upto: int, tail: bytes) -> bytes:
    return b'{"upto":%d,"tail":"%s"}\n' % (upto, fingerprint(tail).encode())


def log_tail(events: Path, upto: int) -> bytes:
    """The log's ``TAIL`` bytes before ``upto`` (what a marker at ``upto`` hashes)."""
    with open(events, "rb") as f:
        f.seek(max(0, upto - TAIL))
        return f.read(min(upto, TAIL))


def covered(lines: list[Any], events: Path) -> int | None:
    """The index in ``lines`` (a sidecar's decoded lines) of its last marker when the marker
    still matches the log, else None. Lines after it belong to an unfinished write."""
    if not lines or lines[0] != {"facts": FORMAT}:
        return None
    last = next((i for i in range(len(lines) - 1, 0, -1)
                 if isinstance(lines[i], dict) and "upto" in lines[i]), 0)
    if last == 0:
        return 0  # nothing written yet: it covers the empty log
    upto, tail = lines[last].get("upto"), lines[last].get("tail")
    if not isinstance(upto, int) or upto < 0:
        return None
    try:
        data = log_tail(events, upto)
    except OSError:
        return None
    if len(data) != min(upto, TAIL) or fingerprint(data) != tail:
        return None  # the log was cut or rewritten: the facts describe another log
    return last


def decode_lines(body: bytes) -> list[Any] | None:
    """Every complete line of ``body`` decoded (a torn last line is left out); None if any
    line is not JSON (a damaged sidecar is not used at all)."""
    end = body.rfind(b"\n")
    if end < 0:
        return []
    try:
        # One call for the whole file: a 10,000-simulation sidecar has ~60,000 lines.
        return orjson.loads(b"[%s]" % body[:end].replace(b"\n", b","))  # type: ignore[no-any-return]
    except orjson.JSONDecodeError:
        return None


def read_facts(run_dir: Path) -> dict[str, list[dict[str, Any]]] | None:
    """The projected lines of ``KINDS`` by type, in log order, from the sidecar (plus a scan
    of the log beyond what it covers); None when the run has no sidecar that can be trusted."""
    try:
        body = (run_dir / FACTS).read_bytes()  # before the log's size: the log is written first
    except OSError:
        return None
    lines = decode_lines(body)
    last = covered(lines, run_dir / EVENTS) if lines is not None else None
    if last is None or lines is None:
        return None
    found: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
    for obj in lines[1:last]:
        target = found.get(obj.get("type")) if isinstance(obj, dict) else None
        if target is not None:
            target.append(obj)
    upto = lines[last]["upto"] if last else 0
    for kind, objs in scan_events(run_dir / EVENTS, KINDS, start=upto).items():
        found[kind].extend(project(obj) for obj in objs)
    return found


def encode(objs: list[dict[str, Any]]) -> bytes:
    """Projected lines as the sidecar holds them, scrubbed like the log."""
    return scrub_bytes(b"".join(orjson.dumps(obj) + b"\n" for obj in objs))


def _line_end(body: bytes, index: int) -> int:
    pos = -1
    for _ in range(index + 1):
        pos = body.index(b"\n", pos + 1)
    return pos + 1


def prepare(run_dir: Path, events_size: int) -> int | None:
    """Make the sidecar ready for the writer to append to a log of ``events_size`` bytes and
    return its size; None when the run has none (it is never started for an existing log).

    A new log gets a new sidecar. An existing one is cut after its last marker (an unfinished
    write) and brought up to date with the events it lacks (a crash between the two writes, an
    older relsim that resumed the run); one that no longer matches the log is removed."""
    path = run_dir / FACTS
    try:
        if events_size == 0:
            path.write_bytes(HEADER)
            return len(HEADER)
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            return None
        lines = decode_lines(body)
        last = covered(lines, run_dir / EVENTS) if lines is not None else None
        if last is None or lines is None:
            path.unlink()
            return None
        size = _line_end(body, last)
        upto = lines[last]["upto"] if last else 0
        with open(path, "r+b") as f:
            f.truncate(size)
            if upto < events_size:
                found = scan_events(run_dir / EVENTS, KINDS, start=upto)
                f.seek(size)
                size += f.write(encode([project(o) for objs in found.values() for o in objs])
                                + marker(events_size, log_tail(run_dir / EVENTS, events_size)))
        return size
    except OSError:
        # The sidecar is only a faster way to read the log: without it analysis scans the log.
        with contextlib.suppress(OSError):
            path.unlink()
        return None


# -- the log scan -----------------------------------------------------------------------------

_SIM_PREFIX = b'{"sim_id":"'


def _sim_of(line_start: int, body: bytes | mmap.mmap) -> bytes:
    """The sim id of a line written by the run log (its first key), without decoding it."""
    if body[line_start : line_start + len(_SIM_PREFIX)] == _SIM_PREFIX:
        begin = line_start + len(_SIM_PREFIX)
        return body[begin : body.find(b'"', begin)]
    return b""


def _pattern(kinds: tuple[str, ...]) -> re.Pattern[bytes]:
    names = b"|".join(re.escape(k.encode()) for k in kinds)
    return re.compile(b'"type":"(' + names + b')"')


def scan_events(
    path: Path, kinds: tuple[str, ...], skip: dict[str, set[bytes]] | None = None,
    start: int = 0,
) -> dict[str, list[dict[str, Any]]]:
    """The decoded lines of ``kinds`` from byte ``start`` (a line start) on, in file order, by
    type. A torn last line is ignored. ``skip`` maps a kind to simulation ids whose lines of
    that kind need no decoding.

    One regular-expression pass over the memory-mapped file finds every wanted marker (one
    pass for all kinds is about twice as fast as a ``bytes.find`` pass per kind, and copies
    nothing); only the matched lines are decoded."""
    found: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > start:
                with mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as body:
                    _scan(body, kinds, skip or {}, found, start)
    except FileNotFoundError:
        pass
    return found


def _scan(body: mmap.mmap, kinds: tuple[str, ...], skip: dict[str, set[bytes]],
          found: dict[str, list[dict[str, Any]]], first: int) -> None:
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for match in _pattern(kinds).finditer(body, first):
        pos = match.start()
        start = max(first, body.rfind(b"\n", 0, pos) + 1)
        end = body.find(b"\n", pos)
        if end < 0:  # a torn last line (being written)
            break
        kind = match.group(1).decode()
        skipped = skip.get(kind)
        if skipped and _sim_of(start, body) in skipped:
            continue
        # The marker must be the line's own type (not text inside a reply): it is the first
        # "type" key of every line the writer emits.
        if body.find(b'"type":', start, pos) >= 0:
            continue
        try:
            obj = loads(body[start:end])
        except decode_error:
            continue
        if isinstance(obj, dict) and obj.get("type") == kind:
            found[kind].append(obj)
