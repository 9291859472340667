"""``relsim compare RUN_A RUN_B [--by FACTOR] [--format table|json]``: paired A/B of two runs."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="paired comparison of two runs (same personas/plan/seed)")
    p.add_argument("run_a", metavar="RUN_A")
    p.add_argument("run_b", metavar="RUN_B")
    p.add_argument("--by", default=None, metavar="FACTOR",
                   help="also compare within groups: attachment-pair, pair, persona, …")
    p.add_argument("--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    import sys

    import orjson

    from engine.analysis.compare import compare_runs
    from engine.analysis.load import load_run
    from engine.analysis.output import print_comparison

    a, b = load_run(args.run_a, keep_reports=False), load_run(args.run_b, keep_reports=False)
    result = compare_runs(a, b, args.by)
    if args.format == "json":
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_comparison(sys.stdout, result)
    return 0
