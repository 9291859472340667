"""``relsim resume RUN_DIR``: continue a crashed or interrupted run."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("resume", help="continue an interrupted or crashed run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--no-progress", action="store_true", help="no live progress display")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from engine.batch.gctune import batch_gc
    from engine.batch.runner import BatchRunner
    from engine.commands._drive import drive

    runner = BatchRunner.open(args.run_dir)
    try:
        queued = runner.resume_unfinished()
    except BaseException:
        asyncio.run(runner.aclose())
        raise
    print(f"resuming {queued} unfinished simulation(s) in {runner.run_dir}", file=sys.stderr)
    if not queued:
        # Say what can be done instead (a cancel-all leaves nothing to resume).
        hints = [f"{n} {state} (relsim rerun {runner.run_dir} --{state})"
                 for state in ("cancelled", "failed") if (n := runner.count(state))]
        if hints:
            print(f"nothing to resume; rerun instead: {'; '.join(hints)}", file=sys.stderr)
    with batch_gc():
        return asyncio.run(drive(runner, show_progress=not args.no_progress))
