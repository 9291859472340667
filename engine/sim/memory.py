"""Per-agent memory: working memory across scenes, identity memories, and retrieval that mixes
semantic similarity with emotional similarity."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from weakref import WeakValueDictionary

from engine.llm.embedding import cosine

SEMANTIC_WEIGHT = 0.6
EMOTION_WEIGHT = 0.4


@dataclass(slots=True)
class MemoryItem:
    text: str
    kind: str  # identity | action | reflection | summary
    scene_index: int | None = None
    emotions: Sequence[float] | None = None  # as packed by pack_emotions
    embedding: array[float] | None = None


def pack_emotions(vector: Iterable[float]) -> array[float]:
    """An emotion vector as packed doubles: the same values in 128 bytes, where a tuple of
    eight floats takes 312 once the appraisal that made them is gone."""
    return array("d", vector)


# Embeddings in use, by text: every simulation of a persona embeds the same identity memories
# (and simulations often say the same stock lines), so one copy of each vector serves them all.
_VECTORS: WeakValueDictionary[str, array[float]] = WeakValueDictionary()


def attach_embeddings(items: Iterable[MemoryItem], vectors: Iterable[Sequence[float]]) -> None:
    """Store each item's embedding as packed doubles: the same values, but 64 of them take
    0.6 KB where a list of floats takes 2.1 KB, and a simulation keeps dozens. An item whose
    text already has an identical vector in memory shares it (vectors are never modified)."""
    for item, vector in zip(items, vectors, strict=True):
        packed = array("d", vector)
        known = _VECTORS.get(item.text)
        if known is not None and known == packed:
            packed = known
        else:
            _VECTORS[item.text] = packed
        item.embedding = packed


def emotion_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """1 for identical emotion profiles, 0 for opposite extremes."""
    return 1.0 - sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


class MemoryStore:
    def __init__(self, capacity: int = 400) -> None:
        self.items: list[MemoryItem] = []
        self.capacity = capacity

    def add(self, item: MemoryItem) -> None:
        self.items.append(item)
        if len(self.items) > self.capacity:
            # Identity memories are who the agent is: forget working memory first.
            for index, old in enumerate(self.items):
                if old.kind != "identity":
                    del self.items[index]
                    break

    def unembedded(self) -> list[MemoryItem]:
        return [item for item in self.items if item.embedding is None]

    def retrieve(
        self,
        query_embedding: Sequence[float],
        query_emotions: Sequence[float] | None = None,
        k: int = 4,
        exclude_scene: int | None = None,
        among: Sequence[MemoryItem] | None = None,
    ) -> list[MemoryItem]:
        """The ``k`` memories most relevant to a moment: what it is about and how it feels
        (leaving out scene ``exclude_scene``, whose transcript the prompt already has), from
        ``among`` (default: every memory)."""
        scored: list[tuple[float, int, MemoryItem]] = []
        for index, item in enumerate(self.items if among is None else among):
            if item.embedding is None:
                continue
            if exclude_scene is not None and item.scene_index == exclude_scene:
                continue
            score = SEMANTIC_WEIGHT * cosine(query_embedding, item.embedding)
            if query_emotions is not None and item.emotions is not None:
                score += EMOTION_WEIGHT * emotion_similarity(query_emotions, item.emotions)
            scored.append((score, -index, item))
        scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
        return [item for _, _, item in scored[:k]]
