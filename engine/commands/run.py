"""``relsim run BATCH.toml``: run a batch headless, with live progress and a summary."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("run", help="run a batch file headless (progress, then a summary)")
    p.add_argument("batch", metavar="BATCH",
                   help="a batch file, or a shipped batch by name (see relsim personas)")
    p.add_argument("--out", default=None, help="parent directory of the run directory")
    p.add_argument("--seed", type=int, default=None, help="override the batch seed")
    p.add_argument("--model", default=None, help="override the batch model")
    p.add_argument("--base-url", default=None, help="override the endpoint (OpenAI-compatible)")
    p.add_argument(
        "--embed-model", default=None, metavar="M",
        help="embeddings model ('local': the built-in hashing embedder; default: the provider's, "
        "falling back to local where the endpoint cannot embed; $RELSIM_EMBED_MODEL)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=None,
        metavar="N",
        help="override the number of simulations in flight",
    )
    p.add_argument("--no-progress", action="store_true", help="no live progress display")
    p.add_argument("--yes", action="store_true",
                   help="run a batch above its max_simulations limit (default 10,000)")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from engine.batch.gctune import batch_gc
    from engine.batch.runner import BatchRunner
    from engine.batch.spec import load_batch
    from engine.commands._drive import drive
    from engine.sim.sources import find_batch

    spec = load_batch(find_batch(args.batch)).with_overrides(
        out=args.out, seed=args.seed, model=args.model, base_url=args.base_url,
        embed_model=args.embed_model,
        concurrency=args.concurrency,
    )
    print(f"batch {spec.name}: {spec.size_text()}", file=sys.stderr)
    # Validates everything (the size included) before the run directory exists.
    runner = BatchRunner(spec, allow_large=args.yes)
    with batch_gc():
        return asyncio.run(drive(runner, show_progress=not args.no_progress))
