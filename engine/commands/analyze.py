"""``relsim analyze RUN [--by FACTOR] [--format table|csv|json]``: the run's aggregates."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("analyze", help="aggregates of a run with 95 %% confidence intervals")
    p.add_argument("run_dir", metavar="RUN")
    p.add_argument("--by", default="all", metavar="FACTOR",
                   help="attachment-pair, pair, persona, model or a batch factor (default: all)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    import sys

    from engine.analysis.aggregate import aggregate
    from engine.analysis.load import load_run
    from engine.analysis.output import write_aggregates

    data = load_run(args.run_dir, keep_reports=False)
    write_aggregates(sys.stdout, data, aggregate(data, args.by), args.format)
    return 0
