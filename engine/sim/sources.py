"""Where persona and batch files come from.

Shipped files are package data of the ``personas`` package (read through importlib.resources,
so they are found wherever relsim is installed). A user directory — ``--personas DIR``, else
``$RELSIM_PERSONAS``, else ``./personas`` — comes first and shadows shipped files by id (the
file stem); its ``batches/`` shadow shipped batches by name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from engine.errors import ConfigError

SHIPPED = "shipped"
ENV = "RELSIM_PERSONAS"

_override: Path | None = None  # set by `relsim --personas DIR` for the command's duration


@dataclass(frozen=True, slots=True)
class Source:
    """A directory of persona files; ``origin`` says where it came from, for listings."""

    directory: Path
    origin: str


@cache
def shipped_dir() -> Path:
    """The installed ``personas`` package's directory."""
    try:
        root = resources.files("personas")
    except ModuleNotFoundError:
        # An install made before personas/ became a package (editable ones included).
        raise ConfigError("relsim's shipped personas are not installed: reinstall relsim "
                          "(pip install .)") from None
    # Simulation plans record persona files by path (resume and rerun reread them), so the
    # shipped files must be real files: true for every pip install; not for a zipped import.
    if not isinstance(root, Path):
        raise ConfigError(f"relsim's shipped personas are not on the file system ({root})")
    return root


@contextlib.contextmanager
def personas_from(directory: str | Path | None) -> Iterator[None]:
    """Use ``directory`` as the user persona directory inside the block (``--personas``)."""
    global _override
    saved = _override
    if directory is not None:
        path = Path(directory)
        if not path.is_dir():
            raise ConfigError(f"--personas: {directory} is not a directory")
        _override = path
    try:
        yield
    finally:
        _override = saved


def user_source() -> Source | None:
    """The user persona directory in effect, if any (the shipped one is never returned)."""
    if _override is not None:
        return Source(_override, str(_override))
    env = os.environ.get(ENV)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise ConfigError(f"${ENV}: {env} is not a directory")
        return Source(path, str(path))
    local = Path("personas")
    if local.is_dir() and not _same(local, shipped_dir()):
        return Source(local, "./personas")
    return None


def sources() -> list[Source]:
    """Persona directories, highest precedence first."""
    user = user_source()
    shipped = Source(shipped_dir(), SHIPPED)
    return [user, shipped] if user is not None else [shipped]


def persona_files() -> dict[str, tuple[Path, str]]:
    """id → (file, origin) of every persona in effect, sorted by id; user files shadow
    shipped ones with the same id."""
    found: dict[str, tuple[Path, str]] = {}
    for source in reversed(sources()):
        for path in source.directory.glob("*.toml"):
            found[path.stem] = (path, source.origin)
    return dict(sorted(found.items()))


def persona_file(persona_id: str) -> Path | None:
    """The file of the persona with this id in effect (a stat per directory, no listing)."""
    for source in sources():
        path = source.directory / f"{persona_id}.toml"
        if path.is_file():
            return path
    return None


def locate(relative: str) -> Path | None:
    """A relative path such as ``personas/jun-park.toml`` (as written in batch files), looked
    up from the working directory, else next to each persona directory."""
    path = Path(relative)
    if path.is_absolute() or path.exists():
        return path
    for source in sources():
        candidate = source.directory.parent / relative
        if candidate.exists():
            return candidate
    return None


def glob_roots() -> list[Path]:
    """Where a relative glob such as ``personas/*.toml`` is tried, in order."""
    return [Path("."), *(s.directory.parent for s in sources())]


def batch_files() -> dict[str, tuple[Path, str]]:
    """name → (file, origin) of every batch in the persona directories' ``batches/``."""
    found: dict[str, tuple[Path, str]] = {}
    for source in reversed(sources()):
        for path in (source.directory / "batches").glob("*.toml"):
            found[path.stem] = (path, source.origin)
    return dict(sorted(found.items()))


def find_batch(key: str | Path) -> Path:
    """A batch file by path, or by the name of a shipped (or user) batch: ``demo``."""
    path = Path(key)
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    known = batch_files()
    hit = known.get(str(key)) or known.get(str(key).replace("-", "_"))
    if hit is None:
        names = ", ".join(known) or "none"
        raise ConfigError(f"{key}: no such batch file or shipped batch (shipped: {names})")
    return hit[0]


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
