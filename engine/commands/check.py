"""``relsim check``: probe an endpoint the way a batch will use it; exit 0 only if one would run."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("check", help="probe a model endpoint before running a batch on it")
    p.add_argument("--model", required=True, help="model string, e.g. llamacpp/local")
    p.add_argument("--base-url", default=None, help="endpoint for OpenAI-compatible models")
    p.add_argument("--embed-model", default=None, metavar="M",
                   help="embeddings model to check ('local': the hashing embedder)")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from rich.table import Table
    from rich.text import Text

    from engine.llm.probe import probe
    from engine.llm.settings import parse_model
    from engine.present.console import stdout_console
    from engine.present.format import safe

    settings = parse_model(args.model, base_url=args.base_url, embed_model=args.embed_model)
    report = asyncio.run(probe(settings))
    table = Table(title=f"{settings.model_string} @ {settings.endpoint}", title_justify="left")
    table.add_column("check")
    table.add_column("", justify="center")
    table.add_column("result", overflow="fold")
    for check in report.checks:
        mark = Text("ok", style="green") if check.ok else Text("FAIL", style="bold red")
        table.add_row(check.name, mark, safe(check.detail))
    console = stdout_console()
    console.print(table)
    console.print("a batch would run" if report.ok else "a batch would not run")
    return 0 if report.ok else 1
