"""``relsim runs``: list run directories with their status counts."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("runs", help="list runs with their status counts")
    p.add_argument("--out", default="logs", help="directory holding run directories")


def run(args: argparse.Namespace) -> int:
    import time

    from engine.batch.runlist import list_runs
    from engine.present.console import print_table, stdout_console

    runs = list_runs(args.out)
    if not runs:
        print(f"no runs in {args.out}")
        return 0
    rows = [{
        "run": str(r.run_dir), "status": r.status,
        "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)),
        "model": r.model, "sims": r.sims, "completed": r.count("completed"),
        "failed": r.count("failed"), "cancelled": r.count("cancelled"),
        "unfinished": r.unfinished,
    } for r in runs]
    print_table(stdout_console(), rows, list(rows[0]))
    return 0
