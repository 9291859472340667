"""``relsim serve``: an OpenAI-compatible server for the built-in simulator, with faults."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Any

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the simulator as an OpenAI-compatible API (/v1/chat/completions, …)",
        description="Serve the built-in simulator over HTTP. Binds to loopback unless told "
        "otherwise. Fault rates are per request, 0-1.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--allow-remote", action="store_true",
                   help="needed to bind to a non-loopback address")
    p.add_argument("--model", action="append", default=[], metavar="ID",
                   help="served model id (repeatable); unknown models get 404. Default: any")
    p.add_argument("--require-key-env", metavar="VAR",
                   help="require 'Authorization: Bearer $VAR' (the key is read from VAR)")
    g = p.add_argument_group("faults")
    g.add_argument("--latency", type=float, default=0.0, metavar="S", help="base latency")
    g.add_argument("--jitter", type=float, default=0.0, metavar="S", help="latency spread")
    g.add_argument("--latency-dist", choices=("uniform", "exponential"), default="uniform")
    g.add_argument("--rate-limit", type=float, default=0.0, metavar="P", help="429 rate")
    g.add_argument("--retry-after", type=float, default=0.05, metavar="S",
                   help="retry-after hint sent with injected 429s")
    g.add_argument("--server-error", type=float, default=0.0, metavar="P", help="500 rate")
    g.add_argument("--hang", type=float, default=0.0, metavar="P", help="hang rate")
    g.add_argument("--hang-seconds", type=float, default=30.0, metavar="S")
    g.add_argument("--reset", type=float, default=0.0, metavar="P", help="connection reset rate")
    g.add_argument("--malformed", type=float, default=0.0, metavar="P", help="malformed JSON rate")
    g.add_argument("--truncated", type=float, default=0.0, metavar="P", help="truncation rate")
    g.add_argument("--rpm", type=float, default=None, help="server-side requests/min limit")
    g.add_argument("--no-ratelimit-headers", action="store_true",
                   help="do not send x-ratelimit-* headers")
    g.add_argument("--fault-seed", type=int, default=0)
    p.add_argument("--log-level", default="warning")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from engine.batch.gctune import batch_gc
    from engine.errors import ConfigError
    from engine.server import ServerConfig, ServerFaults, build_asgi

    if args.host not in LOOPBACK and not args.allow_remote:
        raise ConfigError(
            f"refusing to bind to {args.host}: pass --allow-remote to serve beyond loopback"
        )
    key = None
    if args.require_key_env:
        key = os.environ.get(args.require_key_env)
        if not key:
            raise ConfigError(f"--require-key-env: ${args.require_key_env} is not set")
    faults = ServerFaults(
        rate_limit=args.rate_limit, retry_after_s=args.retry_after, server_error=args.server_error,
        hang=args.hang, hang_s=args.hang_seconds, reset=args.reset, malformed=args.malformed,
        truncated=args.truncated, latency_s=args.latency, jitter_s=args.jitter,
        latency_dist=args.latency_dist, rpm=args.rpm,
        ratelimit_headers=not args.no_ratelimit_headers, seed=args.fault_seed,
    )
    app = build_asgi(ServerConfig(faults=faults, models=tuple(args.model), api_key=key))
    print(f"relsim serve: http://{args.host}:{args.port}/v1 (simulator, no LLM)", file=sys.stderr,
          flush=True)
    # Thousands of requests in flight hold many young objects: with the default thresholds the
    # collector ran through the server's bursts (the same cure as a batch's, engine.batch.gctune).
    # What start-up built is frozen out of the collector's scans.
    gc.freeze()
    with batch_gc():
        # The backlog outlasts a burst of thousands of new connections (uvicorn's default: 2048).
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level,
                    access_log=False, lifespan="off", timeout_graceful_shutdown=1, http="auto",
                    loop="auto", backlog=16384)
    return 0
