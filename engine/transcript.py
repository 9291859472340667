"""One readable, coloured transcript of a simulation's events, for the terminal.

Used live by ``relsim simulate`` (as the simulation's event sink) and from a run log by
``relsim show``. Model text is printed literally (no markup, control characters escaped).
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from engine.events import (
    ActionTaken,
    AfterActionReported,
    AppraisalMade,
    CallFailed,
    EventBase,
    Narration,
    OptionsFramed,
    RetryWarning,
    SceneEnded,
    SceneSelected,
    SceneStarted,
    SceneTransition,
    SimStateChanged,
    SimulationCompleted,
    SimulationStarted,
    StateInferred,
)
from engine.textsafe import printable

PARTNER_COLOURS = ("cyan", "magenta")


class TranscriptPrinter:
    """Call it with each event, in order; it prints the ones a reader cares about."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.names: list[str] = []

    def colour(self, name: str) -> str:
        return PARTNER_COLOURS[self.names.index(name) % 2] if name in self.names else ""

    def line(self, *parts: tuple[str, str]) -> None:
        text = Text()
        for content, style in parts:
            text.append(printable(content), style=style)
        self.console.print(text)

    def __call__(self, event: EventBase) -> None:
        line, colour = self.line, self.colour
        if isinstance(event, SimulationStarted):
            self.names = [a.name for a in event.agents]
            line(
                (" × ".join(self.names), "bold"),
                (f"  model: {event.model_label}", "dim"),
                (
                    f"  seed {event.seed}, {event.num_scenes} scenes"
                    f" × {event.beats_per_scene} beats",
                    "dim",
                ),
            )
        elif isinstance(event, SceneStarted):
            tp = event.turning_point
            title = f"Scene {event.scene_index + 1}: {tp.title}  [{tp.category}]"
            self.console.rule(Text(printable(title), style="bold yellow"))
            line((event.setting, "italic"))
            line((event.opening, ""))
        elif isinstance(event, Narration):
            line(("  ", ""), (event.text, "italic dim"))
        elif isinstance(event, SceneSelected):
            line(("  ▸ next: ", "dim"), (f"{event.turning_point.title} — {event.reason}", "dim"))
        elif isinstance(event, OptionsFramed):
            offered = " | ".join(f"[{o.get('approach', '')}] {o.get('text', '')}"
                                 for o in event.options)
            line(("    options: ", "dim"), (offered, "dim"))
        elif isinstance(event, AppraisalMade):
            top = sorted(event.emotions.items(), key=lambda kv: kv[1], reverse=True)[:3]
            feel = ", ".join(f"{k} {v:.1f}" for k, v in top)
            hearing = f" (hearing {event.responding_to})" if event.responding_to else ""
            line(
                ("    ", ""),
                (event.agent, colour(event.agent)),
                (f" feels {feel}{hearing}" + (" (fallback)" if event.fallback else ""), "dim"),
            )
        elif isinstance(event, ActionTaken):
            line(
                ("    ", ""),
                (f"{event.agent} (thinks) ", colour(event.agent)),
                (event.inner_thoughts, "dim italic"),
            )
            line(
                ("    ", ""),
                (f"{event.agent}" + (f" [{event.approach}]" if event.approach else "") + ": ",
                 f"bold {colour(event.agent)}"),
                (f"\u201c{event.line}\u201d ", ""),
                (event.behaviour, "dim"),
            )
        elif isinstance(event, RetryWarning):
            line(
                ("    ⚠ retry ", "yellow"),
                (
                    f"{event.purpose} attempt {event.attempt}/{event.max_attempts} "
                    f"({event.error_class}): {event.reason}",
                    "yellow",
                ),
            )
        elif isinstance(event, CallFailed):
            kind = "fallback used" if event.fallback else "failed"
            line(
                ("    ✖ ", "red"),
                (f"{event.purpose} {kind} after {event.attempts} attempts", "red"),
            )
        elif isinstance(event, SceneEnded):
            line(("  Summary: ", "bold"), (event.entry.summary, ""))
            for c in event.entry.commitments.values():
                line(
                    ("  ", ""),
                    (f"{c.agent} commitment {c.score}/10", f"bold {colour(c.agent)}"),
                    (f"  {c.reasoning}", "dim"),
                )
        elif isinstance(event, StateInferred):
            values = ", ".join(f"{k} {v.get('value', '?')}" for k, v in event.state.items())
            line(("  State: ", "bold"), (values + (" (fallback)" if event.fallback else ""), ""))
        elif isinstance(event, AfterActionReported):
            for text in report_lines(event):
                line((text, ""))
        elif isinstance(event, SimulationCompleted) and event.outcome:
            early = " (ended early)" if event.ended_early else ""
            line(("Outcome: ", "bold"), (f"{event.outcome}{early}", "bold"))
        elif isinstance(event, SceneTransition):
            line(("  … ", "dim"), (event.bridge, "dim italic"))
        elif isinstance(event, SimStateChanged) and event.state in ("failed", "cancelled"):
            line((f"  [{event.state}] ", "red"), (event.reason or "", "red"))


def report_lines(report: AfterActionReported, *, markdown: bool = False) -> list[str]:
    """The after-action report as plain lines (or Markdown, for ``show --report --markdown``)."""
    h, b = ("## ", "- ") if markdown else ("", "  • ")
    out = [f"{h}After-action report" + (" (fallback)" if report.fallback else ""), ""]
    out += [report.trajectory, ""]
    out.append(f"{h}Predicted outcome: {report.predicted_outcome} "
               f"(probability {report.probability:.2f})")
    out.append("")
    if report.key_scenes:
        out.append(f"{h}Scenes that changed most")
        out += [f"{b}scene {k.scene_index + 1} ({k.change:+.1f}): {k.why}"
                for k in report.key_scenes]
        out.append("")
    for title, items in (("Risk markers", report.risk_markers),
                         ("Strength markers", report.strength_markers)):
        if items:
            out.append(f"{h}{title}")
            out += [f"{b}{item}" for item in items]
            out.append("")
    return [printable(text) for text in out]
