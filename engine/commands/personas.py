"""``relsim personas``: every persona in effect (and the batches), with where each comes from."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    sub.add_parser(
        "personas",
        help="list personas and batches: shipped, ./personas, --personas DIR or $RELSIM_PERSONAS",
    )


def run(args: argparse.Namespace) -> int:
    from engine.present.console import print_table, stdout_console
    from engine.sim.personas import load_persona
    from engine.sim.sources import batch_files, persona_files

    rows = []
    for persona_id, (path, origin) in persona_files().items():
        persona = load_persona(path)
        rows.append({"id": persona_id, "name": persona.name,
                     "attachment": persona.attachment_style or "", "from": origin})
    console = stdout_console()
    print_table(console, rows, ["id", "name", "attachment", "from"], title="Personas")
    batches = [{"batch": name, "from": origin, "file": str(path)}
               for name, (path, origin) in batch_files().items()]
    if batches:
        print_table(console, batches, ["batch", "from", "file"], title="Batches (relsim run NAME)")
    return 0
