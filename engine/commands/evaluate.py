"""``relsim evaluate RUN --outcomes FILE.csv``: how well the run predicts observed outcomes,
against a personas-only baseline on the same model (one model call per couple)."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="predictive accuracy against observed outcomes")
    p.add_argument("run_dir", metavar="RUN")
    p.add_argument("--outcomes", required=True, metavar="FILE.csv",
                   help="couple_id (or persona_a, persona_b), outcome, optional followup")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the personas-only baseline (makes no model calls)")
    p.add_argument("--format", choices=("table", "json"), default="table")


def run(args: argparse.Namespace) -> int:
    import sys

    import orjson

    from engine.analysis.evaluate import evaluate, read_outcomes
    from engine.analysis.load import load_run

    observed = read_outcomes(args.outcomes)
    data = load_run(args.run_dir, keep_reports=False)
    result = evaluate(data, observed, baseline=not args.no_baseline)
    if args.format == "json":
        sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print_evaluation(result)
    return 0


def print_evaluation(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from engine.analysis.output import ci, fmt

    console = Console(highlight=False)
    console.print(f"run {result['run']} ({result['model']}): {result['couples']} couples "
                  f"({result['together']} together, {result['separated']} separated); "
                  f"simulation score = {result['score_source']}", markup=False)
    if result["unmatched"]:
        shown = ", ".join(result["unmatched"][:5])
        more = len(result["unmatched"]) - 5
        console.print(f"{len(result['unmatched'])} couple(s) of the file are not in the run: "
                      f"{shown}{f', … {more} more' if more > 0 else ''}", markup=False)
    table = Table(title="Prediction of observed outcomes (95% bootstrap intervals)")
    table.add_column("metric")
    table.add_column("simulation", justify="right")
    has_base = "baseline" in result
    if has_base:
        table.add_column("personas-only baseline", justify="right")
    for name in ("accuracy", "balanced_accuracy", "auc", "separation"):
        s = result["simulation"][name]
        row = [name.replace("_", " "), f"{fmt(s['value'])} {ci(s['low'], s['high'])}"]
        if has_base:
            b = result["baseline"][name]
            row.append(f"{fmt(b['value'])} {ci(b['low'], b['high'])}")
        table.add_row(*row)
    console.print(table)
    if has_base:
        d, m = result["paired"]["accuracy_difference"], result["paired"]["mcnemar"]
        console.print(f"accuracy, simulation − baseline: {fmt(d['value'])} "
                      f"{ci(d['low'], d['high'])}; McNemar exact p = {fmt(m['p'], 4)} "
                      f"(only simulation right: {m['only_second']}, only baseline right: "
                      f"{m['only_first']})", markup=False)
