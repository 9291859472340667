"""``relsim report RUN -o report.html``: one self-contained HTML report of a run."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report of a run")
    p.add_argument("run_dir", metavar="RUN")
    p.add_argument("-o", "--output", default="report.html", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.analysis.load import load_run
    from engine.analysis.report import render_report

    data = load_run(args.run_dir)
    html = render_report(data)
    Path(args.output).write_text(html, encoding="utf-8")
    print(f"report written to {args.output} ({len(html.encode()) / 1024:.0f} KiB)")
    return 0
