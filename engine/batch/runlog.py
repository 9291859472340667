"""The run directory on disk: the append-only event log (one async writer) and the manifest.

Layout of a run directory::

    manifest.json   batch spec, model, seeds, per-simulation status and attempts (atomic replace)
    events.jsonl    every event, one JSON object per line, plus a ``run_attempt`` key (rerun number)
    index.tsv       ``sim_id<TAB>attempt<TAB>offset<TAB>length`` per run of lines of one
                    simulation, and ``*<TAB>end_offset`` after each write: lets a reader open one
                    simulation of a huge run without scanning the whole log
    facts.jsonl     what analysis reads of the log (scores, turning points, state values,
                    outcomes; no free text but agent names and state values), one line per event
                    of those types and a marker after each write (``engine.batch.facts``): lets
                    ``relsim analyze`` skip the scan of the whole log. Only runs whose log was
                    started with it have one

The writer never drops an event: ``append`` only queues, and producers that outrun the disk are
held back by awaiting ``room()`` (the runner does so before every model call), so memory stays
bounded. Lines of one batch are grouped by simulation (order within a simulation is kept) so the
index needs one entry per simulation per write rather than one per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import aiofiles
import orjson

from engine.batch import facts
from engine.batch.layout import EVENTS, FACTS, INDEX, MANIFEST  # noqa: F401 (names kept here)
from engine.events import EventBase, SceneEnded, SimStateChanged
from engine.redact import scrub_bytes

FORMAT = 1
ENDED_STATES = frozenset({"completed", "failed", "cancelled"})


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # a full disk must not keep the half-written copy
        raise
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def prompt_hash() -> str:
    """A short hash of every prompt template: runs with different prompts are not comparable."""
    digest = hashlib.blake2b(digest_size=8)
    folder = resources.files("engine.sim").joinpath("prompts")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".txt"):
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    return digest.hexdigest()


def public_endpoint(base_url: str | None) -> str | None:
    """``base_url`` without credentials or query string (keys never reach the disk)."""
    if not base_url:
        return None
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def truncate_torn_tail(path: Path) -> int:
    """Cut a partial last line (a crash mid-write) so appends start on a fresh line.
    Returns the file's new size."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(max(0, size - 1))
        if f.read(1) == b"\n":
            return size
        block = 1 << 16
        pos = size
        while pos > 0:
            start = max(0, pos - block)
            f.seek(start)
            chunk = f.read(pos - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                f.truncate(start + cut + 1)
                return start + cut + 1
            pos = start
        f.truncate(0)
        return 0


def encode_event(event: EventBase, attempt: int) -> bytes:
    data = event.__pydantic_serializer__.to_json(event)
    return b'%s,"run_attempt":%d}\n' % (data[:-1], attempt)


_FACT_KINDS = frozenset(facts.KINDS)


class RunLogWriter:
    """The single writer of ``events.jsonl``, ``index.tsv`` and ``facts.jsonl``.

    Writes at least every ``flush_interval`` seconds, at once after a scene or a simulation
    ends, and fsyncs after writing a simulation's end. ``append`` is synchronous and O(1).
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        flush_interval: float = 1.0,
        high_water: int = 20_000,
        low_water: int = 5_000,
        batch_size: int = 5_000,
    ) -> None:
        self.run_dir = run_dir
        self.flush_interval = flush_interval
        self.high_water = high_water
        self.low_water = low_water
        self.batch_size = batch_size
        self._pending: list[tuple[EventBase, int]] = []
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._sync_wanted = False
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._appended = 0
        self._written_upto = 0  # count of appended events that are on disk
        self._written_cond = asyncio.Condition()
        self._events_file: Any = None
        self._index_file: Any = None
        self._facts_file: Any = None  # None: this run has no sidecar
        self._offset = 0
        self._log_tail = b""  # the log's last bytes, hashed into each facts marker
        # file sizes after the last complete write
        self._good_events = self._good_index = self._good_facts = 0
        self.error: BaseException | None = None
        self.on_error: Callable[[BaseException], None] | None = None
        self.written = 0
        self.batches = 0
        self.fsyncs = 0
        self.max_pending = 0

    async def start(self) -> None:
        if self._task is not None:
            return
        events_path = self.run_dir / EVENTS
        # A crash may have left half a line: cut it so our lines start clean.
        self._offset = truncate_torn_tail(events_path)
        self._good_events = self._offset
        self._good_index = truncate_torn_tail(self.run_dir / INDEX)
        facts_size = await asyncio.to_thread(facts.prepare, self.run_dir, self._offset)
        self._events_file = await aiofiles.open(events_path, "ab")
        self._index_file = await aiofiles.open(self.run_dir / INDEX, "ab")
        if facts_size is not None:
            self._good_facts = facts_size
            self._log_tail = facts.log_tail(events_path, self._offset)
            self._facts_file = await aiofiles.open(self.run_dir / FACTS, "ab")
        self._task = asyncio.create_task(self._loop(), name="relsim-runlog-writer")

    # -- producer side -------------------------------------------------------------------------

    def append(self, event: EventBase, attempt: int = 1) -> None:
        """Queue ``event`` for the log. Never blocks, never drops."""
        self._pending.append((event, attempt))
        self._appended += 1
        n = len(self._pending)
        if n > self.max_pending:
            self.max_pending = n
        if isinstance(event, SceneEnded):
            self._wake.set()
        elif isinstance(event, SimStateChanged) and event.state in ENDED_STATES:
            self._sync_wanted = True
            self._wake.set()
        elif n >= self.batch_size:
            self._wake.set()
        if n >= self.high_water:
            self._room.clear()

    async def room(self) -> None:
        """Wait while the writer is behind (backpressure for producers)."""
        if not self._room.is_set():
            await self._room.wait()
        if self.error is not None:
            raise self.error

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self, *, sync: bool = False) -> None:
        """Return when every event appended so far is written (and fsynced if ``sync``)."""
        target = self._appended
        if sync:
            self._sync_wanted = True
        self._wake.set()
        async with self._written_cond:
            await self._written_cond.wait_for(
                lambda: (
                    self._written_upto >= target
                    or self.error is not None
                    or self._task is None
                    or self._task.done()
                )
            )
        if self.error is not None:
            raise self.error

    async def aclose(self) -> None:
        if self._task is None:
            return
        self._closing = True
        self._sync_wanted = True
        self._wake.set()
        try:
            await self._task
        finally:
            self._task = None
            for f in (self._events_file, self._index_file, self._facts_file):
                if f is not None:
                    await f.close()
            self._events_file = self._index_file = self._facts_file = None
        if self.error is not None:
            raise self.error

    # -- writer task ---------------------------------------------------------------------------

    async def _loop(self) -> None:
        try:
            while True:
                if not self._wake.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.flush_interval)
                self._wake.clear()
                if self._pending or self._sync_wanted:
                    await self._write_pending()
                if self._closing and not self._pending:
                    return
        except Exception as exc:  # a dead writer must not hang producers: they see the error
            self.error = exc
            self._cut_failed_write()
            if self.on_error is not None:
                self.on_error(exc)
            self._room.set()
            async with self._written_cond:
                self._written_cond.notify_all()

    def _cut_failed_write(self) -> None:
        """After a failed write (a full disk), cut the files back to their last complete
        write: no torn line is left, and the space the partial write took is free again (the
        manifest's final status needs a little)."""
        sizes = [(EVENTS, self._good_events), (INDEX, self._good_index)]
        if self._facts_file is not None:
            sizes.append((FACTS, self._good_facts))
        for name, size in sizes:
            with contextlib.suppress(OSError):
                if (self.run_dir / name).stat().st_size > size:
                    os.truncate(self.run_dir / name, size)

    async def _write_pending(self) -> None:
        batch, self._pending = self._pending, []
        sync, self._sync_wanted = self._sync_wanted, False
        if batch:
            data, index, fact_lines = self._encode(batch)
            await self._write_chunk(data, index, fact_lines, sync)
            self.written += len(batch)
            self.batches += 1
        elif sync:
            await self._write_chunk(b"", b"", b"", True)
        self._written_upto += len(batch)
        if len(self._pending) < self.low_water:
            self._room.set()
        async with self._written_cond:
            self._written_cond.notify_all()

    def _encode(self, batch: list[tuple[EventBase, int]]) -> tuple[bytes, bytes, bytes]:
        groups: dict[tuple[str, int], list[bytes]] = {}
        wanted: dict[tuple[str, int], list[bytes]] = {}  # the lines of facts.KINDS
        with_facts = self._facts_file is not None
        for event, attempt in batch:
            key = (event.sim_id, attempt)
            lines = groups.get(key)
            if lines is None:
                groups[key] = lines = []
            line = encode_event(event, attempt)
            lines.append(line)
            if with_facts and getattr(event, "type", None) in _FACT_KINDS:
                wanted.setdefault(key, []).append(line)
        chunks: list[bytes] = []
        index: list[bytes] = []
        projected: list[dict[str, Any]] = []
        offset = self._offset
        for (sim_id, attempt), lines in groups.items():
            chunk = scrub_bytes(b"".join(lines))
            chunks.append(chunk)
            key = (sim_id or "-").encode()
            index.append(b"%s\t%d\t%d\t%d\n" % (key, attempt, offset, len(chunk)))
            offset += len(chunk)
            # In the log's order (grouped as above); scrubbed as a whole by facts.encode.
            projected.extend(facts.project(orjson.loads(line))
                             for line in wanted.get((sim_id, attempt), ()))
        index.append(b"*\t%d\n" % offset)
        self._offset = offset
        return b"".join(chunks), b"".join(index), facts.encode(projected) if with_facts else b""

    async def _write_chunk(self, data: bytes, index: bytes, fact_lines: bytes,
                           sync: bool) -> None:
        """Events first, then their index lines and facts: an index entry or a facts marker
        never points past the data."""
        f, ix, fx = self._events_file, self._index_file, self._facts_file
        if data:
            await f.write(data)
            await f.flush()
            await ix.write(index)
            await ix.flush()
            self._good_events = self._offset
            self._good_index += len(index)
            if fx is not None:
                self._log_tail = (self._log_tail + data[-facts.TAIL:])[-facts.TAIL:]
                fact_lines += facts.marker(self._offset, self._log_tail)
                await fx.write(fact_lines)
                await fx.flush()
                self._good_facts += len(fact_lines)
        if sync:
            fds = [f.fileno(), ix.fileno()] + ([fx.fileno()] if fx is not None else [])
            await asyncio.to_thread(_fsync_all, *fds)
            self.fsyncs += 1


def _fsync_all(*fds: int) -> None:
    for fd in fds:
        os.fsync(fd)


def overwrite_in_place(path: Path, data: bytes) -> None:
    """Last resort when the disk is full: overwrite ``path`` in the blocks it already has (no
    new space needed). Only when ``data`` fits; not atomic, hence only after ``write_atomic``
    failed for lack of space."""
    if not path.exists() or len(data) > path.stat().st_size:
        raise OSError(errno.ENOSPC, "no space left for the manifest")
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate(len(data))
        f.flush()
        os.fsync(f.fileno())


def encode_manifest(data: dict[str, Any]) -> bytes:
    return scrub_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))


def write_manifest(path: Path, payload: bytes) -> None:
    """The manifest (``encode_manifest``), atomically; on a full disk, compact and in place so
    that its status (never left "running") still reaches the disk, then the error is raised."""
    try:
        write_atomic(path, payload)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        overwrite_in_place(path, orjson.dumps(orjson.loads(payload)))
        raise


class ManifestKeeper:
    """Holds the manifest in memory and replaces the file at most every ``interval`` seconds
    while it changes (a 10,000-simulation manifest is megabytes), and at once on ``write_now``.
    The event log stays the source of truth: the reader rebuilds status from it after a crash."""

    def __init__(self, path: Path, data: dict[str, Any], *, interval: float = 2.0) -> None:
        self.path = path
        self.data = data
        self.interval = interval
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.on_write: Callable[[], None] | None = None
        self.error: OSError | None = None

    def mark_dirty(self) -> None:
        self._dirty = True

    def write_sync(self) -> None:
        self.data["updated"] = time.time()
        write_manifest(self.path, encode_manifest(self.data))
        self._dirty = False

    async def write_now(self) -> None:
        async with self._lock:
            self.data["updated"] = time.time()
            payload = encode_manifest(self.data)
            self._dirty = False
            await asyncio.to_thread(write_manifest, self.path, payload)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="relsim-manifest")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self._dirty:
                try:
                    await self.write_now()
                except OSError as exc:  # a full disk: the runner hears of it from the log
                    self.error = exc
                    self._dirty = True

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.write_now()
