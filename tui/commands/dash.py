"""``relsim dash [BATCH | RUN_DIR]``: the dashboard (plain ``relsim`` runs this).

No path opens the launch screen; a batch file starts that batch; a run directory opens that past
run read-only from its logs. Textual is imported only here, inside ``run``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("dash", help="open the dashboard (on a batch file or a past run)")
    p.add_argument(
        "path",
        nargs="?",
        metavar="BATCH|RUN_DIR",
        help="a batch file or shipped batch name to start, or a run directory to open read-only",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="where runs live (default: the batch's 'out', else logs)",
    )
    p.add_argument("--model", default=None, help="model string (overrides the batch's)")
    p.add_argument("--base-url", default=None, help="endpoint for OpenAI-compatible models")


def open_dashboard(
    path: str | None,
    out: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
) -> int:
    from engine.llm.registry import default_model, resolve_model

    if model is not None or base_url is not None:
        # A bad model or URL is one clear error before any screen opens.
        resolve_model(model or default_model(), base_url=base_url)

    spec = None
    run_dir = None
    if path is not None:
        target = Path(path)
        if target.is_dir():
            run_dir = target
        else:
            from engine.batch.spec import load_batch
            from engine.sim.sources import find_batch

            spec = load_batch(find_batch(path)).with_overrides(
                out=out, model=model, base_url=base_url
            )
    import logging

    from textual.logging import TextualHandler

    from engine.batch.gctune import batch_gc
    from tui.app import RelsimApp

    app = RelsimApp(
        spec=spec,
        run_dir=run_dir,
        out_dir=out or "logs",
        model=model or default_model(),
        base_url=base_url,
    )
    # Log records written to the terminal would tear the dashboard: route them to Textual's
    # log (visible with `textual console`) while it runs.
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [TextualHandler()]
    try:
        with batch_gc():  # the dashboard runs batches: the same collector settings as `relsim run`
            code = app.run()
    finally:
        root.handlers = saved
    session = app.session
    if session is not None and session.run_dir is not None and session.live_mode:
        print(f"run directory: {session.run_dir}")
        if session.resumable:  # as the CLI prints after an interrupted run
            print(f"Resume with: relsim resume {session.run_dir}")
    return int(code or 0)


def run(args: argparse.Namespace) -> int:
    return open_dashboard(args.path, args.out, args.model, args.base_url)
