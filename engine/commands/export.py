"""``relsim export RUN_DIR --format csv|jsonl``: one row per simulation × scene × partner."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("export", help="export commitment scores (sim × scene × partner)")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")


def run(args: argparse.Namespace) -> int:
    import csv
    import sys
    from pathlib import Path

    import orjson

    from engine.batch.reader import RunReader
    from engine.commands.show import report_skipped
    from engine.errors import StorageError

    reader = RunReader(args.run_dir)
    rows = reader.scene_rows()
    if args.output != "-":
        folder = Path(args.output).resolve().parent
        if not folder.is_dir():
            raise StorageError(f"cannot write {args.output}: the folder {folder} does not exist")
    try:
        out = (sys.stdout if args.output == "-"
               else open(args.output, "w", newline="", encoding="utf-8"))  # noqa: SIM115
    except OSError as exc:
        raise StorageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    report_skipped(reader)
    try:
        if args.format == "jsonl":
            for row in rows:
                out.write(orjson.dumps(row).decode() + "\n")
        else:
            if rows:
                writer = csv.DictWriter(out, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise StorageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    finally:
        if out is not sys.stdout:
            out.close()
    return 0
