"""The runs under a directory, each summarised from its manifest: what ``relsim runs`` prints
and the dashboard's runs screen shows."""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.batch.reader import read_manifest
from engine.errors import ConfigError

UNFINISHED = ("pending", "running", "waiting")
CRASHED = "crashed (resumable)"


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_dir: Path
    name: str
    model: str
    status: str  # the manifest's, or CRASHED for a "running" run no process holds
    created: float
    sims: int
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, state: str) -> int:
        return int(self.counts.get(state, 0))

    @property
    def unfinished(self) -> int:
        return sum(self.count(s) for s in UNFINISHED)

    def counts_text(self) -> str:
        """``completed 10  failed 2`` (states with simulations only)."""
        return "  ".join(f"{k} {n}" for k, n in sorted(self.counts.items()) if n)


def list_runs(out_dir: str | Path) -> list[RunInfo]:
    """Every readable run directory in ``out_dir``, oldest first (unreadable ones skipped)."""
    out = Path(out_dir)
    if not out.is_dir():
        return []
    runs = []
    for run_dir in out.iterdir():
        if run_dir.name.startswith(".") or not run_dir.is_dir():
            continue  # hidden: a run directory still being created
        try:
            runs.append(run_info(run_dir))
        except ConfigError:
            continue
    return sorted(runs, key=lambda r: (r.created, r.run_dir.name))


def run_info(run_dir: Path) -> RunInfo:
    manifest = read_manifest(run_dir, deep=False)
    spec = manifest.get("spec") if isinstance(manifest.get("spec"), dict) else {}
    status = run_status(run_dir, manifest)
    counts = manifest.get("counts")
    return RunInfo(
        run_dir=run_dir,
        name=str(spec.get("name", run_dir.name)),
        model=str(manifest.get("model") or spec.get("model", "?")),
        status=status,
        created=float(manifest.get("created", 0) or 0),
        sims=len(manifest.get("sims") or {}),
        counts={str(k): int(v) for k, v in counts.items()} if isinstance(counts, dict) else {},
    )


def run_status(run_dir: Path, manifest: dict[str, Any]) -> str:
    """The run's status as every command shows it: the manifest's, except that a "running" run
    no process holds crashed (and is resumable)."""
    status = str(manifest.get("status", "?"))
    if status == "running" and not is_locked(run_dir):
        return CRASHED
    return status


def is_locked(run_dir: Path) -> bool:
    """True while a relsim process holds the run (its lock file is locked)."""
    from engine.batch.runner import LOCK

    path = run_dir / LOCK
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False
