"""``relsim demo``: the dashboard running the shipped demo batch on the built-in simulator."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="open the dashboard and run the demo batch (simulated)")
    p.add_argument("--out", default=None, metavar="DIR", help="where the run goes (default: logs)")


def run(args: argparse.Namespace) -> int:
    # Imported here: the batch spec pulls in the simulation stack, which other commands skip.
    from engine.batch.spec import demo_batch_path
    from tui.commands.dash import open_dashboard

    return open_dashboard(str(demo_batch_path()), args.out)
