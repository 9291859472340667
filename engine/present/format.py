"""Pure helpers that turn engine state into short display strings and styles."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

from engine.textsafe import printable

SPARK = "▁▂▃▄▅▆▇█"
SIM_LABEL = "SIMULATED — no LLM"
STATE_STYLE = {
    "pending": "dim",
    "running": "bold cyan",
    "waiting": "yellow",
    "completed": "green",
    "failed": "bold red",
    "cancelled": "magenta",
}


def safe(text: str | None, style: str = "") -> Text:
    """Untrusted (model or file) text as a literal ``Text``: never parsed as markup, control
    characters (ANSI escapes) shown as ``\\xNN``."""
    return Text(printable(text or ""), style=style)


def sparkline(scores: Sequence[int], width: int = 10, top: int = 10) -> str:
    """Commitment scores (0..``top``) as a unicode sparkline of the last ``width`` values."""
    tail = list(scores)[-width:]
    return "".join(SPARK[min(len(SPARK) - 1, round(s / top * (len(SPARK) - 1)))] for s in tail)


def bar(value: float, width: int = 1) -> str:
    """A 0..1 value as a small block bar (``width`` cells, eighths resolution)."""
    value = min(1.0, max(0.0, value))
    if width == 1:
        return SPARK[min(len(SPARK) - 1, int(value * len(SPARK)))] if value > 0 else " "
    eighths = round(value * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")).ljust(width)


def duration(seconds: float | None) -> str:
    """Elapsed time or ETA: ``m:ss`` below an hour, then ``XhMM``; ``--`` when unknown."""
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return "--"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60:d}:{seconds % 60:02d}"
    return f"{seconds // 3600:d}h{seconds % 3600 // 60:02d}"


def count(n: float) -> str:
    """Compact counts: 950, 12.3k, 4.1M."""
    if n < 1000:
        return f"{n:.0f}"
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def model_label(model: str) -> str:
    return f"sim ({SIM_LABEL})" if model == "sim" else model


def mean_spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation."""
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def cached_share(prompt_tokens: int, cached_prompt_tokens: int) -> str:
    """The share of prompt tokens served from the server's prefix cache, e.g. "62 %"."""
    if not prompt_tokens:
        return "--"
    return f"{100 * cached_prompt_tokens / prompt_tokens:.0f} %"


def scene_label(scene_done: int, num_scenes: int, state: str, current: int | None) -> str:
    """``2/6``: the scene a running simulation is in (1-based, as the transcript numbers
    scenes), else the scenes it completed. One convention for the table and the transcript."""
    n = current + 1 if state in ("running", "waiting") and current is not None else scene_done
    return f"{n}/{num_scenes}"


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis when it did not fit."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 simulation``, ``2 simulations``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
