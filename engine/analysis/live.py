"""Aggregates over a live ``BatchState`` for the dashboard, updated incrementally.

Each refresh folds in only the rows whose ``version`` changed since the last one (a row's
per-scene score is the mean of both partners'), into a simulations × scenes matrix; group means
and their 95 % t intervals are then a few vectorised numpy/scipy calls, so a refresh of 10,000
simulations costs milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.analysis.aggregate import t_intervals
from engine.batch.state import SimRow

GROUPINGS = ("all", "attachment_pair", "pair", "persona", "replicate")


@dataclass(frozen=True)
class SimMeta:
    persona_a: str
    persona_b: str
    attachment_pair: str
    replicate: int
    extra: dict[str, str] = field(default_factory=dict)


def read_meta(run_dir: Path | None) -> dict[str, SimMeta]:
    """Persona ids and attachment styles per simulation, from the run's manifest."""
    if run_dir is None or not (run_dir / "manifest.json").is_file():
        return {}
    from engine.analysis.load import _persona_facts, read_manifest

    try:
        sims = read_manifest(run_dir)["sims"]
    except Exception:  # a manifest being replaced: the caller retries later
        return {}
    facts = _persona_facts({str(i[k]) for i in sims.values() for k in ("persona_a",
                                                                        "persona_b")})
    out = {}
    for sid, info in sims.items():
        id_a, att_a = facts[str(info["persona_a"])]
        id_b, att_b = facts[str(info["persona_b"])]
        extra = {str(k): str(v) for k, v in (info.get("factors") or {}).items()}
        out[sid] = SimMeta(id_a, id_b, "–".join(sorted((att_a, att_b))),
                           int(info.get("replicate", 0)), extra)
    return out


@dataclass
class Series:
    group: str
    n: int
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


class LiveAggregator:
    def __init__(self, meta: dict[str, SimMeta] | None = None, scenes: int = 1) -> None:
        self.meta = meta or {}
        self.index: dict[str, int] = {}
        self.ids: list[str] = []
        self.versions: list[int] = []
        self.matrix = np.full((0, max(scenes, 1)), np.nan)
        self.partner = np.full((0, 2, max(scenes, 1)), np.nan)  # per-partner scores
        self.done = np.zeros(0, dtype=bool)
        self.last = np.full(0, np.nan)
        self.last_partner = np.full((0, 2), np.nan)
        self.personas: list[str] = []
        self._persona_pos: dict[str, int] = {}
        self.pidx = np.zeros((0, 2), dtype=np.int64)  # persona index of A and B per row
        self._keys: dict[str, tuple[int, np.ndarray, list[str]]] = {}
        self.version = 0

    def _persona(self, pid: str) -> int:
        pos = self._persona_pos.get(pid)
        if pos is None:
            pos = self._persona_pos[pid] = len(self.personas)
            self.personas.append(pid)
        return pos

    def _grow(self, rows: int, scenes: int) -> None:
        n, s = self.matrix.shape
        if rows > n or scenes > s:
            # Rows double (amortised: a past run's 10,000 rows arrive one by one); every
            # reader slices to len(self.ids).
            r, c = (max(rows, 2 * n) if rows > n else n), max(scenes, s)
            m = np.full((r, c), np.nan)
            m[:n, :s] = self.matrix
            p = np.full((r, 2, c), np.nan)
            p[:n, :, :s] = self.partner
            self.matrix, self.partner = m, p
            self.done = np.concatenate([self.done, np.zeros(r - n, dtype=bool)])
            self.last = np.concatenate([self.last, np.full(r - n, np.nan)])
            self.last_partner = np.concatenate([self.last_partner, np.full((r - n, 2), np.nan)])
            self.pidx = np.concatenate([self.pidx, np.zeros((r - n, 2), dtype=np.int64)])

    def update(self, rows: Iterable[SimRow]) -> bool:
        """Fold in changed rows; True if anything changed. The scan for changed versions is
        plain Python (10,000 rows: a few ms); the changed rows are written to the matrices in
        one vectorised assignment, not a handful of small numpy calls each."""
        index, versions = self.index, self.versions
        changed: list[tuple[int, SimRow]] = []
        for row in rows:
            i = index.get(row.sim_id)
            if i is None:
                i = self._add(row)
            if versions[i] != row.version:
                versions[i] = row.version
                changed.append((i, row))
        if not changed:
            return False
        pairs: list[tuple[list[float], list[float]]] = []
        width = 1
        for _, row in changed:
            a = row.trajectory.get(row.agents[0], [])
            b = row.trajectory.get(row.agents[1], [])
            k = min(len(a), len(b))
            pairs.append((a[:k], b[:k]))
            width = max(width, k, row.num_scenes)
        self._grow(len(self.ids), width)
        width = self.matrix.shape[1]
        nan = [math.nan] * width
        block = np.array([[a + nan[len(a):], b + nan[len(b):]] for a, b in pairs])
        rows_at = np.fromiter((i for i, _ in changed), dtype=np.int64, count=len(changed))
        lengths = np.fromiter((len(a) for a, _ in pairs), dtype=np.int64, count=len(pairs))
        self.partner[rows_at] = block
        self.matrix[rows_at] = (block[:, 0] + block[:, 1]) / 2
        self.done[rows_at] = [row.state == "completed" for _, row in changed]
        ends = np.maximum(lengths - 1, 0)
        scored = lengths > 0
        picks = np.arange(len(changed))
        self.last[rows_at] = np.where(scored, self.matrix[rows_at, ends], np.nan)
        self.last_partner[rows_at] = np.where(scored[:, None], block[picks, :, ends], np.nan)
        self.version += 1
        return True

    def _add(self, row: SimRow) -> int:
        i = self.index[row.sim_id] = len(self.ids)
        self.ids.append(row.sim_id)
        self.versions.append(-1)
        self._grow(len(self.ids), 1)
        m = self.meta.get(row.sim_id)
        self.pidx[i] = (self._persona(m.persona_a if m else row.agents[0]),
                        self._persona(m.persona_b if m else row.agents[1]))
        return i

    def _key(self, sid: str, by: str) -> str:
        m = self.meta.get(sid)
        if by == "all":
            return "all"
        if m is None:
            return "?"
        if by == "pair":
            return " × ".join(sorted((m.persona_a, m.persona_b)))
        if by == "replicate":
            return str(m.replicate)
        if by == "attachment_pair":
            return m.attachment_pair
        return m.extra.get(by, "?")

    def codes(self, by: str) -> tuple[np.ndarray, list[str]]:
        """Each row's group under ``by`` as an integer code, and the labels (cached: a row's
        group never changes; recomputed only when rows were added)."""
        n = len(self.ids)
        cached = self._keys.get(by)
        if cached is None or cached[0] != n:
            labels, codes = np.unique(np.array([self._key(s, by) for s in self.ids] or [""]),
                                      return_inverse=True)
            self._keys[by] = cached = (n, codes[:n], [str(x) for x in labels])
        return cached[1], cached[2]

    def trajectory(self, by: str = "all", top: int = 8) -> list[Series]:
        """Mean per scene with a 95 % t band for the ``top`` largest groups (group sums by
        ``bincount``: one pass over the matrix whatever the number of groups)."""
        n = len(self.ids)
        if n == 0:
            return []
        if by == "persona":  # each partner's own score, under their persona
            values = self.partner[:n].transpose(1, 0, 2).reshape(2 * n, -1)
            codes = np.concatenate([self.pidx[:n, 0], self.pidx[:n, 1]])
            labels = list(self.personas)
        else:
            values = self.matrix[:n]
            codes, labels = self.codes(by)
        size = len(labels)
        present = ~np.isnan(values)
        filled = np.where(present, values, 0.0)
        count = np.stack([np.bincount(codes, present[:, j], size)
                          for j in range(values.shape[1])], axis=1)
        total = np.stack([np.bincount(codes, filled[:, j], size)
                          for j in range(values.shape[1])], axis=1)
        square = np.stack([np.bincount(codes, filled[:, j] ** 2, size)
                           for j in range(values.shape[1])], axis=1)
        members = np.bincount(codes, minlength=size)
        with np.errstate(all="ignore"):
            mean = total / count
            var = (square - count * mean**2) / (count - 1)
        std = np.sqrt(np.clip(np.nan_to_num(var), 0, None))
        out = []
        for g in np.argsort(-members, kind="stable")[:top]:
            if members[g] == 0:
                continue
            low, high = t_intervals(mean[g], std[g], count[g])
            scored = count[g] > 0
            out.append(Series(labels[g], int(members[g]), mean[g][scored], low[scored],
                              high[scored]))
        return out

    def finals(self) -> np.ndarray:
        """Final scores (mean of both partners) of completed simulations."""
        n = len(self.ids)
        vals = self.last[:n][self.done[:n]]
        return vals[~np.isnan(vals)]

    def histogram(self) -> tuple[list[float], list[int]]:
        bins = [i / 2 for i in range(21)]
        counts = np.bincount(np.rint(self.finals() * 2).astype(int), minlength=21)[:21]
        return bins, counts.tolist()

    def heatmap(self) -> tuple[list[str], np.ndarray]:
        """Mean final commitment of the row persona with the column partner."""
        n, size = len(self.ids), len(self.personas)
        ok = self.done[:n] & ~np.isnan(self.last_partner[:n, 0])
        a, b = self.pidx[:n, 0][ok], self.pidx[:n, 1][ok]
        va, vb = self.last_partner[:n, 0][ok], self.last_partner[:n, 1][ok]
        # Both partners' views as flat cell indices, summed by bincount (np.add.at is slower).
        cells = np.concatenate([a * size + b, b * size + a])
        sums = np.bincount(cells, np.concatenate([va, vb]), size * size).reshape(size, size)
        counts = np.bincount(cells, minlength=size * size).reshape(size, size)
        with np.errstate(all="ignore"):
            mat = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        order = np.argsort(self.personas) if size else np.zeros(0, dtype=np.int64)
        return [self.personas[i] for i in order], mat[np.ix_(order, order)]

    def summary(self) -> dict[str, Any]:
        n = len(self.ids)
        return {"simulations": n, "completed": int(self.done[:n].sum())}
