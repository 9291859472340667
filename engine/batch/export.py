"""Export a run's commitment scores: one long row per simulation × scene × partner, with a
0-based ``scene_index`` (``RunReader.scene_rows``). The one export convention, used by
``relsim export`` and the dashboard's ``e``."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import IO, Any

import orjson

from engine.batch.reader import RunReader
from engine.errors import StorageError

FORMATS = ("csv", "jsonl")


def write_rows(rows: list[dict[str, Any]], out: IO[str], fmt: str) -> None:
    if fmt == "jsonl":
        for row in rows:
            out.write(orjson.dumps(row).decode() + "\n")
    elif rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def export_run(run_dir: str | Path, output: str | Path, fmt: str = "csv") -> tuple[int, int]:
    """Write ``run_dir``'s rows to ``output`` (``-``: stdout). Returns the rows written and
    the log lines skipped as unreadable. A folder that is missing, a full disk or any other
    write failure is one ``StorageError``."""
    reader = RunReader(run_dir)
    rows = reader.scene_rows()
    if str(output) == "-":
        write_rows(rows, sys.stdout, fmt)
        return len(rows), reader.skipped
    folder = Path(output).resolve().parent
    if not folder.is_dir():
        raise StorageError(f"cannot write {output}: the folder {folder} does not exist")
    try:
        with open(output, "w", newline="", encoding="utf-8") as f:
            write_rows(rows, f, fmt)
    except OSError as exc:
        raise StorageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return len(rows), reader.skipped
