"""``relsim export RUN_DIR --format csv|jsonl``: one row per simulation × scene × partner."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export", help="export commitment scores (sim × scene × partner)",
        description="Export a run's commitment scores and relationship state: one long row per "
        "simulation × scene × partner, with a 0-based scene_index (the dashboard's `e` writes "
        "the same rows).")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")


def run(args: argparse.Namespace) -> int:
    import sys

    from engine.batch.export import export_run

    _, skipped = export_run(args.run_dir, args.output, args.format)
    if skipped:
        print(f"relsim: skipped {skipped} unreadable line(s) of {args.run_dir}/events.jsonl",
              file=sys.stderr)
    return 0
