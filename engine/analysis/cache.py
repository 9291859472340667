"""A finished run's analysis tables kept next to its log, so analysing it again skips the scan.

``load_run`` of a 10,000-simulation run spends most of its time finding and decoding lines of a
300 MB log; a finished run's log no longer changes, so the three tables are written once to
``.analysis-cache/`` in the run directory (Arrow IPC, read back in milliseconds by polars).
The cache is used only while its key still matches: the sizes and modification times of the
log and the manifest (a resumed or re-run run changes both), the persona facts the tables were
built with, and this module's format. Runs still being written are never cached. A run
directory that cannot be written (read-only, another user's) simply goes uncached.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from engine.batch.layout import EVENTS, MANIFEST

DIR = ".analysis-cache"
FORMAT = 1
TABLES = ("scenes", "sims", "states")


def cache_key(run_dir: Path, manifest: dict[str, Any],
              facts: dict[str, tuple[str, str]]) -> dict[str, Any] | None:
    """The key of the run's current content; None when the run may still change."""
    if manifest.get("status") == "running":
        return None
    try:
        files = {name: [st.st_size, st.st_mtime_ns]
                 for name in (EVENTS, MANIFEST) for st in [os.stat(run_dir / name)]}
    except OSError:
        return None
    return {"format": FORMAT, "files": files,
            "personas": sorted([path, *fact] for path, fact in facts.items())}


def read_tables(run_dir: Path, key: dict[str, Any]) -> tuple[pl.DataFrame, ...] | None:
    folder = run_dir / DIR
    try:
        if orjson.loads((folder / "key.json").read_bytes()) != key:
            return None
        return tuple(pl.read_ipc(folder / f"{name}.arrow") for name in TABLES)
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return None


def write_tables(run_dir: Path, key: dict[str, Any], tables: tuple[pl.DataFrame, ...]) -> None:
    """Best effort: the key is removed first and written last, so a half-written cache never
    matches."""
    folder = run_dir / DIR
    with contextlib.suppress(OSError, pl.exceptions.PolarsError):
        folder.mkdir(exist_ok=True)
        (folder / "key.json").unlink(missing_ok=True)
        for name, table in zip(TABLES, tables, strict=True):
            tmp = folder / f"{name}.arrow.tmp"
            table.write_ipc(tmp)
            os.replace(tmp, folder / f"{name}.arrow")
        tmp = folder / "key.json.tmp"
        tmp.write_bytes(orjson.dumps(key))
        os.replace(tmp, folder / "key.json")
