"""``relsim scenarios``: list the turning-point library, or import one in rel_sim's JSON format."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("scenarios", help="list turning points, or import a scenario library")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser(
        "import", help="convert a rel_sim turing_points.json library to relsim's TOML format"
    )
    imp.add_argument("file", metavar="FILE", help="a JSON list in rel_sim's turing_points format")
    imp.add_argument("-o", "--output", metavar="OUT.toml",
                     help="where to write the library (default: FILE with a .toml suffix)")
    imp.add_argument("--force", action="store_true", help="overwrite OUT.toml if it exists")
    ls = actions.add_parser("list", help="print turning points with category and eligibility")
    ls.add_argument("--category", metavar="C", help="only this category (case-insensitive)")
    ls.add_argument("--library", metavar="FILE.toml",
                    help="a user library instead of the shipped one")


def run(args: argparse.Namespace) -> int:
    if args.action == "import":
        return _import(args)
    return _list(args)


def _import(args: argparse.Namespace) -> int:
    from engine.commands._output import write_output
    from engine.errors import ConfigError
    from engine.sim.scenario_import import convert_library, to_toml
    from engine.sim.turning_points import parse_library

    source = Path(args.file)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    turning_points = convert_library(data, str(source))
    text = to_toml(turning_points, source.name)
    parse_library(text, str(source))  # what we write must load: check before touching the disk
    out = Path(args.output) if args.output else source.with_suffix(".toml")
    if out.resolve() == source.resolve():
        raise ConfigError(f"{out}: the output would replace the input")
    write_output(out, text, force=args.force)
    counts: dict[str, int] = {}
    for tp in turning_points:
        counts[tp.category] = counts.get(tp.category, 0) + 1
    detail = ", ".join(f"{n} {c}" for c, n in sorted(counts.items()))
    print(f"wrote {len(turning_points)} turning points to {out} ({detail})")
    return 0


def _list(args: argparse.Namespace) -> int:
    from rich.table import Table

    from engine.errors import ConfigError
    from engine.present.console import stdout_console
    from engine.sim.scenario_import import normalise_category
    from engine.sim.turning_points import library
    from engine.textsafe import printable

    lib = library(args.library, replace=True) if args.library else library()
    rows = list(lib.values())
    if args.category:
        try:
            category = normalise_category(args.category)
        except ValueError as exc:
            raise ConfigError(f"--category: {exc}") from None
        rows = [tp for tp in rows if tp.category == category]
    table = Table(title=f"{len(rows)} turning points")
    for name in ("id", "category", "uncertainty", "commitment", "from scene", "repeatable"):
        table.add_column(name)
    for tp in rows:
        table.add_row(
            printable(tp.id), tp.category, tp.uncertainty,
            f"{tp.commitment_min:g}–{tp.commitment_max:g}", str(tp.min_scene + 1),
            "yes" if tp.repeatable else "no",
        )
    stdout_console().print(table)
    return 0
