"""A simulation's transcript rendered from its events, one way for every display: printed by
``relsim simulate`` (live, as the simulation's sink) and ``relsim show`` (from the run log),
and written to the dashboard's transcript log. Model text is shown literally (``safe``).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from engine.events import (
    ActionTaken,
    AfterActionReported,
    AppraisalMade,
    CallFailed,
    CommitmentScored,
    EmbeddingsFallback,
    EventBase,
    Narration,
    OptionsFramed,
    ReflectionMade,
    RetryWarning,
    SceneSelected,
    SceneStarted,
    SceneSummarized,
    SceneTransition,
    SimStateChanged,
    SimulationCompleted,
    SimulationFailed,
    SimulationStarted,
    StateInferred,
)
from engine.present.format import model_label, safe
from engine.textsafe import printable

EMOTIONS = ("joy", "acceptance", "fear", "surprise", "sadness", "disgust", "anger", "anticipation")
PARTNER_COLOURS = ("cyan", "magenta")


def _join(*parts: tuple[str, str]) -> Text:
    text = Text()
    for content, style in parts:
        text.append_text(safe(content, style))
    return text


class TranscriptRenderer:
    """Turns events into renderables (rich ``Text`` lines and scene ``Rule``s). Remembers the
    two partners' colours."""

    def __init__(self) -> None:
        self.colours: dict[str, str] = {}

    def colour(self, agent: str | None) -> str:
        if not agent:
            return ""
        if agent not in self.colours and len(self.colours) < 2:
            self.colours[agent] = PARTNER_COLOURS[len(self.colours)]
        return self.colours.get(agent, "")

    def render(self, event: EventBase) -> list[Text | Rule]:
        out: list[Text | Rule] = []
        if isinstance(event, SimulationStarted):
            for agent in event.agents:
                self.colour(agent.name)
            names = " × ".join(a.name for a in event.agents)
            out.append(_join((names, "bold"), (f"  {model_label(event.model)}", "dim"),
                             (f"  seed {event.seed} · {event.num_scenes} scenes × "
                              f"{event.beats_per_scene} beats", "dim")))
            if event.start_scene:
                out.append(_join((f"(resumed at scene {event.start_scene + 1})", "dim italic")))
        elif isinstance(event, SceneStarted):
            tp = event.turning_point
            title = Text(f"Scene {event.scene_index + 1}: ", style="bold yellow")
            title.append_text(safe(tp.title, "bold yellow"))
            title.append_text(safe(f"  [{tp.category} · {tp.uncertainty} uncertainty]", "yellow"))
            out.append(Rule(title, style="yellow"))
            out.append(_join(("Setting: ", "bold"), (event.setting, "italic")))
            out.append(_join(("Conflict: ", "bold"), (event.conflict, "")))
            for agent, goal in event.goals.items():
                out.append(_join(("  goal ", "dim"), (agent, self.colour(agent)),
                                 (f": {goal}", "dim")))
            out.append(_join((event.opening, "")))
        elif isinstance(event, Narration):
            out.append(_join(("  ", ""), (event.text, "italic")))
        elif isinstance(event, SceneSelected):
            out.append(_join(("  ▸ next: ", "dim"),
                             (f"{event.turning_point.title} — {event.reason}", "dim")))
        elif isinstance(event, OptionsFramed):
            for option in event.options:
                out.append(_join(("    option ", "dim"),
                                 (f"[{option.get('approach', '?')}] ", "dim"),
                                 (option.get("text", ""), "dim")))
        elif isinstance(event, AppraisalMade):
            hearing = f" (hearing {event.responding_to})" if event.responding_to else ""
            line = _join(("    ", ""), (event.agent, self.colour(event.agent)),
                         (f"{hearing} feels ", "dim"))
            # Whole names, strongest first; emotions below 0.05 are left out.
            felt = sorted(((event.emotions.get(n, 0.0), n) for n in EMOTIONS), reverse=True)
            shown = [(v, n) for v, n in felt if v >= 0.05]
            for i, (value, name) in enumerate(shown):
                line.append(", " if i else "", style="dim")
                line.append(name, style="bold" if value >= 0.5 else "")
                line.append(f" {value:.1f}", style="green" if value >= 0.5 else "dim green")
            if not shown:
                line.append("nothing strongly", style="dim")
            line.append(" ")
            if event.fallback:
                line.append("(fallback)", style="yellow")
            out.append(line)
            if event.inner_thoughts:
                out.append(_join(("    ", ""), ("thinks: ", "dim"),
                                 (event.inner_thoughts, "dim italic")))
        elif isinstance(event, ActionTaken):
            c = self.colour(event.agent)
            out.append(_join(("    ", ""), (f"{event.agent} (inner) ", c),
                             (event.inner_thoughts, "dim italic")))
            approach = f" [{event.approach}]" if event.approach else ""
            out.append(_join(("    ", ""), (f"{event.agent}{approach}: ", f"bold {c}"),
                             (f"“{event.line}” ", ""), (event.behaviour, "dim")))
        elif isinstance(event, SceneSummarized):
            out.append(_join(("  Summary: ", "bold"), (event.summary, "")))
        elif isinstance(event, CommitmentScored):
            cm = event.commitment
            c = self.colour(cm.agent)
            out.append(_join(("  ", ""), (f"{cm.agent} commitment {cm.score}/10", f"bold {c}"),
                             (f"  sat {cm.satisfaction} · alt {cm.alternatives} · "
                              f"inv {cm.investment}", "dim")))
            out.append(_join(("    ", ""), (cm.reasoning, "dim")))
        elif isinstance(event, ReflectionMade):
            out.append(_join(("  ", ""), (f"{event.agent} reflects: ", self.colour(event.agent)),
                             (event.text, "dim italic")))
        elif isinstance(event, SceneTransition):
            out.append(_join(("  … ", "dim"), (f"({event.time_passed}) ", "dim"),
                             (event.bridge, "dim italic")))
        elif isinstance(event, RetryWarning):
            wait = f", retrying in {event.wait_s:.0f} s" if event.wait_s else ""
            out.append(_join(("    ⚠ ", "yellow"),
                             (f"{event.purpose} attempt {event.attempt}/{event.max_attempts} "
                              f"({event.error_class}{wait}): ", "yellow"),
                             (event.reason, "yellow")))
        elif isinstance(event, EmbeddingsFallback):
            out.append(_join(("  ⚠ ", "yellow"), (event.note, "yellow")))
        elif isinstance(event, CallFailed):
            kind = "fallback used" if event.fallback else "failed"
            out.append(_join(("    ✖ ", "red"), (f"{event.purpose} {kind} after {event.attempts} "
                                                 "attempts: ", "red"), (event.error, "red")))
        elif isinstance(event, SimulationFailed):
            out.append(_join(("✖ simulation failed: ", "bold red"), (event.reason, "red")))
        elif isinstance(event, StateInferred):
            values = ", ".join(f"{k} {v.get('value', '?')}" for k, v in event.state.items())
            out.append(_join(("  State: ", "bold"),
                             (values + (" (fallback)" if event.fallback else ""), "")))
        elif isinstance(event, AfterActionReported):
            out.extend(_join((text, "")) for text in report_lines(event))
        elif isinstance(event, SimulationCompleted):
            outcome = f" · outcome: {event.outcome}" if event.outcome else ""
            early = " (ended early)" if event.ended_early else ""
            out.append(_join((f"✔ simulation completed{outcome}{early}", "bold green")))
        elif isinstance(event, SimStateChanged) and event.state in ("cancelled", "waiting"):
            reason = f": {event.reason}" if event.reason else ""
            out.append(_join((f"— {event.state}", "magenta"), (reason, "dim")))
        elif isinstance(event, SimStateChanged) and event.state == "running" and event.attempt > 1:
            out.append(_join((f"— rerun, attempt {event.attempt}", "magenta")))
        return out


class TranscriptPrinter:
    """A simulation sink that prints each event's lines to a console as it arrives."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.renderer = TranscriptRenderer()

    def __call__(self, event: EventBase) -> None:
        for renderable in self.renderer.render(event):
            self.console.print(renderable)


def print_transcript(events: Iterable[EventBase], console: Console) -> None:
    """A readable transcript of one simulation's events."""
    printer = TranscriptPrinter(console)
    for event in events:
        printer(event)


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
