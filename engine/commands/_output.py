"""Writing a command's output file whole or not at all."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from engine.errors import ConfigError


def write_output(path: Path, text: str, *, force: bool = False) -> None:
    """Write ``text`` to ``path`` atomically: a reader (or a crash) never sees half a file.
    Without ``force`` an existing file is left alone and ConfigError says so."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory")
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists (use --force to overwrite)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            if force:
                os.replace(tmp, path)
            else:
                os.link(tmp, path)  # fails if the file appeared meanwhile: never overwrite
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except FileExistsError:
        raise ConfigError(f"{path} already exists (use --force to overwrite)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
