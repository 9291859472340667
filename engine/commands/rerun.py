"""``relsim rerun RUN_DIR --failed | --cancelled | --sim ID``: new attempts of ended
simulations, each with a new attempt seed unless ``--same-seed`` (or ``--seed S``)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("rerun", help="rerun failed simulations, or one simulation, of a run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--failed", action="store_true", help="rerun every failed simulation")
    which.add_argument("--cancelled", action="store_true",
                       help="rerun every cancelled simulation")
    which.add_argument("--sim", action="append", metavar="ID", help="rerun this simulation")
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=None,
                       help="seed for the new attempts (default: a new seed per attempt, "
                       "recorded in the manifest)")
    seeds.add_argument("--same-seed", action="store_true",
                       help="reuse each simulation's original seed (reproduces the first attempt)")
    p.add_argument("--no-progress", action="store_true", help="no live progress display")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from engine.batch.gctune import batch_gc
    from engine.batch.runner import BatchRunner
    from engine.batch.spec import MAX_SEED
    from engine.commands._drive import drive
    from engine.errors import ConfigError

    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        raise ConfigError(f"--seed must be between 0 and {MAX_SEED}")
    runner = BatchRunner.open(args.run_dir)
    seeds = {"seed": args.seed, "same_seed": args.same_seed}
    try:
        if args.failed or args.cancelled:
            ids = runner.rerun_where("failed" if args.failed else "cancelled", **seeds)
        else:
            ids = []
            for sim_id in args.sim:
                if not runner.rerun(sim_id, **seeds):
                    raise ConfigError(f"{sim_id} has not ended ({runner.state.rows[sim_id].state});"
                                      " use relsim resume for unfinished simulations")
                ids.append(sim_id)
    except BaseException:
        asyncio.run(runner.aclose())
        raise
    print(f"rerunning {len(ids)} simulation(s): {', '.join(ids) or 'none'}", file=sys.stderr)
    with batch_gc():
        return asyncio.run(drive(runner, show_progress=not args.no_progress))
