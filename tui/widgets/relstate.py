"""The relationship's state (RELATE-Sim's eight variables, from ``state_inferred`` events) as
text: the selected simulation's latest state on the batch screen, and the state per scene on
the simulation screen. Values are model output: shown literally."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from engine.batch.state import SimRow
from engine.present.format import safe
from engine.sim.schemas import STATE_VARIABLES

# Values that signal trouble or strength, for emphasis (the value itself is always printed).
RISKY = {"active", "unresolved", "failed", "hot", "opposed", "soft", "hard", "separated"}
GOOD = {"repaired", "successful", "explicit", "supportive", "together"}


def _style(value: str) -> str:
    return "red" if value in RISKY else "green" if value in GOOD else ""


def state_panel_text(row: SimRow | None) -> Text:
    """The selected simulation's latest relationship state and outcome."""
    text = Text()
    if row is None:
        text.append("relationship state\n", style="bold")
        text.append("  no simulation selected\n", style="dim")
        return text
    text.append_text(safe(f"state · {row.sim_id}", "bold"))
    if row.rel_state_scene is not None:
        text.append(f"  after scene {row.rel_state_scene + 1}", style="dim")
    text.append("\n")
    if not row.rel_state:
        text.append("  no state inferred yet\n", style="dim")
    for name in STATE_VARIABLES:
        value = row.rel_state.get(name)
        if value is None:
            continue
        text.append(f"  {name:<15}", style="dim")
        text.append_text(safe(value, _style(value)))
        text.append("\n")
    text.append("  outcome        ", style="dim")
    if row.outcome:
        text.append_text(safe(row.outcome, "bold " + _style(row.outcome)))
    else:
        text.append("—" if row.state != "completed" else "not recorded", style="dim")
    text.append("\n")
    return text


def state_table_text(per_scene: Mapping[int, Mapping[str, str]], width: int = 40) -> Text:
    """Variables down, scenes across (the last scenes that fit ``width``)."""
    text = Text()
    text.append("relationship state per scene\n", style="bold")
    if not per_scene:
        text.append("  no state inferred yet\n", style="dim")
        return text
    cell = 11
    label = 2 + max(map(len, STATE_VARIABLES)) + 1  # whole names: "repair_outcome" is a key
    fit = max(1, (width - label) // cell)
    scenes = sorted(per_scene)[-fit:]
    text.append(" " * label)
    for s in scenes:
        text.append(f"{'scene ' + str(s + 1):<{cell}}", style="bold yellow")
    text.append("\n")
    for name in STATE_VARIABLES:
        text.append(f"  {name:<{label - 2}}", style="dim")
        for s in scenes:
            value = str(per_scene[s].get(name, "·"))
            text.append_text(safe(f"{value[: cell - 1]:<{cell}}", _style(value)))
        text.append("\n")
    return text
