"""The built-in hashing embedder: deterministic bag-of-words vectors, no model needed."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence

DIMENSIONS = 64
_WORD = re.compile(r"[a-z0-9']+")
# Function words would make every pair of sentences look alike.
_STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with about as is are was were be been it its "
    "this that these those i me my we our you your he him his she her they them their what "
    "which who do does did not no so than too very can will just".split()
)


def hash_embed(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        h = zlib.crc32(word.encode())
        vector[h % dimensions] += 1.0 if h & 0x80000000 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else vector


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
