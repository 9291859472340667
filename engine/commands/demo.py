"""``relsim demo``: the dashboard running the shipped demo batch on the built-in simulator."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

DEMO = "batches/demo.toml"


def demo_batch_path() -> Path:
    """``personas/batches/demo.toml`` next to the persona files in use."""
    from engine.sim.personas import personas_dir

    return personas_dir() / DEMO


def add_parser(sub: Any) -> None:
    p = sub.add_parser("demo", help="open the dashboard and run the demo batch (simulated)")
    p.add_argument("--out", default=None, metavar="DIR", help="where the run goes (default: logs)")


def run(args: argparse.Namespace) -> int:
    from engine.commands.dash import open_dashboard

    return open_dashboard(str(demo_batch_path()), args.out)
