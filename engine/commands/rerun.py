"""``relsim rerun RUN_DIR --failed | --sim ID``: new attempts of ended simulations."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("rerun", help="rerun failed simulations, or one simulation, of a run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--failed", action="store_true", help="rerun every failed simulation")
    which.add_argument("--sim", action="append", metavar="ID", help="rerun this simulation")
    p.add_argument("--seed", type=int, default=None,
                   help="seed for the new attempt (default: the simulation's original seed)")
    p.add_argument("--no-progress", action="store_true", help="no live progress display")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from engine.batch.gctune import batch_gc
    from engine.batch.runner import BatchRunner
    from engine.commands._drive import drive
    from engine.errors import ConfigError

    runner = BatchRunner.open(args.run_dir)
    try:
        if args.failed:
            if args.seed is not None:
                raise ConfigError("--seed applies to --sim, not to --failed")
            ids = runner.rerun_failed()
        else:
            ids = []
            for sim_id in args.sim:
                if not runner.rerun(sim_id, seed=args.seed):
                    raise ConfigError(f"{sim_id} has not ended ({runner.state.rows[sim_id].state});"
                                      " use relsim resume for unfinished simulations")
                ids.append(sim_id)
    except BaseException:
        asyncio.run(runner.aclose())
        raise
    print(f"rerunning {len(ids)} simulation(s): {', '.join(ids) or 'none'}", file=sys.stderr)
    with batch_gc():
        return asyncio.run(drive(runner, show_progress=not args.no_progress))
