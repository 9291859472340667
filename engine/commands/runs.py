"""``relsim runs``: list run directories with their status counts."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("runs", help="list runs with their status counts")
    p.add_argument("--out", default="logs", help="directory holding run directories")


def _locked(run_dir: Any) -> bool:
    """True while a relsim process holds the run (its lock file is locked)."""
    import fcntl
    import os

    path = run_dir / ".lock"
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


def run(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    import orjson

    from engine.batch.console import print_table, stdout_console

    out = Path(args.out)
    if not out.is_dir():
        print(f"no runs in {out}")
        return 0
    rows = []
    for run_dir in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        status = manifest.get("status", "?")
        if status == "running" and not _locked(run_dir):
            status = "crashed (resumable)"
        counts = manifest.get("counts", {})
        rows.append({
            "run": str(run_dir), "status": status,
            "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(manifest.get("created", 0))),
            "model": manifest.get("model", ""), "sims": len(manifest.get("sims", {})),
            "completed": counts.get("completed", 0), "failed": counts.get("failed", 0),
            "cancelled": counts.get("cancelled", 0),
            "unfinished": sum(counts.get(k, 0) for k in ("pending", "running", "waiting")),
        })
    if not rows:
        print(f"no runs in {out}")
        return 0
    console = stdout_console()
    print_table(console, rows, list(rows[0]))
    return 0
