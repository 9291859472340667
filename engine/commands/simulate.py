"""``relsim simulate``: one simulation, streamed to the terminal as a readable transcript."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

DEFAULT_PAIR = ("aiko-tanaka", "kwame-asante")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("simulate", help="run one simulation and stream its transcript")
    p.add_argument(
        "personas",
        nargs="*",
        metavar="PERSONA",
        help="two persona ids, first names or .toml paths (default: %(default)s)",
        default=list(DEFAULT_PAIR),
    )
    p.add_argument(
        "--scenes", type=int, default=10, metavar="K",
        help="scenes to play (1-50; the maximum unless --policy fixed)",
    )
    p.add_argument(
        "--policy", choices=("state", "scene_master", "fixed"), default="state",
        help="how the next scene is chosen: from the relationship's state (default), by the "
        "Scene Master among eligible candidates, or a fixed plan drawn up front",
    )
    p.add_argument(
        "--commitment-samples", type=int, default=1, metavar="N",
        help="commitment scores averaged per partner and scene (1-10)",
    )
    p.add_argument("--beats", type=int, default=3, metavar="N", help="beats per scene (1-20)")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--model", default=None, help="model string (default: $RELSIM_MODEL or sim)")
    p.add_argument("--base-url", default=None, help="endpoint for OpenAI-compatible models")
    p.add_argument(
        "--embed-model", default=None, metavar="M",
        help="embeddings model ('local': the built-in hashing embedder; default: the provider's, "
        "falling back to local where the endpoint cannot embed; $RELSIM_EMBED_MODEL)",
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from engine.batch.spec import MAX_SEED
    from engine.errors import ConfigError
    from engine.llm.registry import resolve_model
    from engine.present.console import print_commitment_log
    from engine.present.transcript import PARTNER_COLOURS, TranscriptPrinter
    from engine.sim.agent import RelationshipAgent
    from engine.sim.scene_master import SceneMaster
    from engine.sim.simulation import MAX_BEATS, MAX_SCENES, Simulation, check_range

    if len(args.personas) != 2:
        raise ConfigError(f"give exactly two personas, got {len(args.personas)}")
    check_range("--scenes", args.scenes, 1, MAX_SCENES)
    check_range("--beats", args.beats, 1, MAX_BEATS)
    check_range("--seed", args.seed, 0, MAX_SEED)
    provider = resolve_model(args.model, base_url=args.base_url, embed_model=args.embed_model)
    a = RelationshipAgent.from_persona(args.personas[0], model=provider)
    b = RelationshipAgent.from_persona(args.personas[1], model=provider)
    console = Console(highlight=False)
    sm = SceneMaster(
        a, b, model=provider, policy=args.policy, commitment_samples=args.commitment_samples
    )
    sim = Simulation(sm, a, b, seed=args.seed, num_scenes=args.scenes,
                     sink=TranscriptPrinter(console))
    log = asyncio.run(sim.run_auto_async(args.beats))
    print_commitment_log(console, log, PARTNER_COLOURS)
    console.print(f"Outcome: {sim.outcome}" + (" (ended early)" if sm.ended_early else ""))
    return 0
