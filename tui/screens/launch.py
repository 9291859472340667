"""Launch: build a batch (personas, pairing, scene policy and plan, beats, replicates, model,
simulator options, concurrency), see how many simulations and calls it will make, and start it.
Open any batch file, save the form as one. Errors show inline."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.segment import Segment
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Button, Footer, Input, Label, Select, SelectionList, Static
from textual.widgets._toggle_button import ToggleButton

from engine.errors import ConfigError
from engine.present.format import SIM_LABEL, count, plural, safe
from engine.sim.personas import Persona, list_personas
from tui.messages import ShowRuns, StartBatch
from tui.pace import Pace
from tui.screens.modals import PathScreen

PAIRINGS = [
    ("all pairs (A×B once)", "all_pairs"),
    ("both orders (A×B and B×A)", "both_orders"),
    ("explicit pairs", "explicit"),
]


POLICIES = [
    ("state: the relationship's state picks the next scene", "state"),
    ("scene_master: the Scene Master picks", "scene_master"),
    ("fixed: the plan below, in order", "fixed"),
]


class CheckList(SelectionList[str]):
    """A SelectionList whose boxes read ☑/☐, so picked rows differ without colour."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = []
        for seg in strip:
            meta = seg.style.meta if seg.style is not None else {}
            if seg.text == ToggleButton.BUTTON_INNER and "option" in meta:
                option = self.get_option_at_index(int(meta["option"]))
                seg = Segment("☑" if option.value in self._selected else "☐", seg.style)
            segments.append(seg)
        return Strip(segments, strip.cell_length)


def parse_sim_options(text: str, errors: list[str]) -> dict[str, float]:
    """``latency=0.5, malformed=0.1`` → the batch's ``[sim]`` table."""
    out: dict[str, float] = {}
    for chunk in text.replace(";", ",").split(","):
        if not chunk.strip():
            continue
        key, sep, value = chunk.partition("=")
        try:
            if not sep or not key.strip():
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            errors.append(f"simulator options: '{chunk.strip()}' is not key=number")
    return out


def _int(value: str, field: str, errors: list[str]) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        errors.append(f"{field}: enter a whole number")
        return None


class LaunchScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start"),
        Binding("ctrl+o", "open_file", "Open file"),
        Binding("ctrl+w", "save_file", "Save TOML"),
        Binding("f2", "load_demo", "Demo"),
        Binding("o", "runs", "Runs"),
        Binding("slash", "search", "Search", show=False),
        Binding("down", "into_list", "Into the list", show=False),
    ]

    def __init__(self, pace: Pace, out_dir: Path, model: str = "sim", base_url: str = "") -> None:
        """``out_dir``: where the batch's runs go."""
        super().__init__()
        self.pace = pace
        self.out_dir = out_dir
        self.personas: list[Persona] = []
        self.chosen: list[str] = []  # persona ids, in the order picked
        self.spec: Any = None
        # Fields the form has no widget for (simulator options, base URL), kept from a loaded
        # batch file.
        self.extra: dict[str, Any] = {}
        self.model = model
        self.base_url = base_url

    def compose(self) -> ComposeResult:
        yield Static("relsim — launch a batch", id="launch-title")
        with Horizontal(id="launch-body"):
            with Vertical(id="persona-box"):
                yield Label("Personas (space picks; / searches)", id="persona-count")
                yield Input(placeholder="search personas… (/)", id="search")
                yield CheckList(id="personas")
            with VerticalScroll(id="form"):
                yield Label("Batch name")
                yield Input("batch", id="name")
                yield Label("Pairing")
                yield Select(PAIRINGS, value="all_pairs", allow_blank=False, id="pairing")
                yield Label("Explicit pairs (a:b, c:d) — used with 'explicit pairs'")
                yield Input(placeholder="aiko:kwame, lena:jun", id="pairs")
                yield Label("Scene policy (how the next scene is chosen)")
                yield Select(POLICIES, value="state", allow_blank=False, id="policy")
                yield Label("Scene plan (policy fixed: turning points in order; pick below or "
                            "type ids)")
                yield Input(placeholder="first-date, first-major-argument, …", id="plan")
                yield CheckList(id="turning-points")
                with Horizontal(classes="row"):
                    with Vertical():
                        yield Label("Scenes")
                        yield Input("10", id="scenes", type="integer")
                    with Vertical():
                        yield Label("Beats/scene")
                        yield Input("3", id="beats", type="integer")
                    with Vertical():
                        yield Label("Replicates")
                        yield Input("1", id="replicates", type="integer")
                    with Vertical():
                        yield Label("Concurrency")
                        yield Input("64", id="concurrency", type="integer")
                with Horizontal(classes="row"):
                    with Vertical():
                        yield Label("Model")
                        yield Input(self.model, id="model")
                    with Vertical():
                        yield Label("Base URL")
                        yield Input(
                            self.base_url, placeholder="http://127.0.0.1:8000/v1", id="base_url"
                        )
                    with Vertical():
                        yield Label("Seed")
                        yield Input("0", id="seed", type="integer")
                yield Label("Simulator options ([sim]: latency, jitter, fault rates, e.g. "
                            "latency=0.5, malformed=0.1)")
                yield Input(placeholder="latency=0.5, jitter=0.5", id="sim")
                yield Static(id="model-label")
                yield Static(id="estimate")
                yield Static(id="errors")
                with Horizontal(classes="row"):
                    yield Button("Start batch (ctrl+s)", id="start", variant="success")
                    yield Button("Load demo batch (f2)", id="demo")
        yield Footer()

    def on_mount(self) -> None:
        if self.pace.frozen:  # snapshots: a blinking cursor would make them flaky
            for box in self.query(Input):
                box.cursor_blink = False
        try:
            self.personas = list_personas()
        except ConfigError as exc:
            self.query_one("#errors", Static).update(safe(str(exc), "red"))
        self._fill_personas("")
        self._fill_turning_points()
        self.query_one("#personas", SelectionList).focus()
        self.validate()

    def _fill_turning_points(self) -> None:
        from engine.sim.turning_points import library

        try:
            points = library()
        except ConfigError:
            return
        widget = self.query_one("#turning-points", SelectionList)
        plan = self._plan()
        with self.prevent(SelectionList.SelectedChanged):
            widget.clear_options()
            widget.add_options([
                (safe(f"{tp.title}  ", "").append_text(safe(f"{tp.category} · {tid}", "dim")),
                 tid, tid in plan)
                for tid, tp in points.items()
            ])

    def _plan(self) -> list[str]:
        return [p.strip() for p in self._value("plan").split(",") if p.strip()]

    # -- personas ------------------------------------------------------------------------------

    def _fill_personas(self, query: str) -> None:
        widget = self.query_one("#personas", SelectionList)
        q = query.strip().lower()
        options = []
        for p in self.personas:
            blob = f"{p.id} {p.name} {p.occupation or ''} {p.attachment_style or ''}".lower()
            if q and q not in blob:
                continue
            label = safe(p.name, "bold")
            label.append_text(safe(f"  {p.occupation or ''} · {p.attachment_style or '?'}", "dim"))
            options.append((label, p.id or p.name, (p.id or p.name) in self.chosen))
        with self.prevent(SelectionList.SelectedChanged):
            widget.clear_options()
            widget.add_options(options)
        if options:
            widget.highlighted = 0  # so space picks the first match straight away

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self._fill_personas(event.value)
        else:
            self.validate()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        widget = event.selection_list
        if widget.id == "turning-points":
            # Picks join the plan in the order they are picked; the policy becomes fixed.
            picked = {str(v) for v in widget.selected}
            plan = [p for p in self._plan() if p in picked]
            plan += [str(v) for v in widget.selected if str(v) not in plan]
            with self.prevent(Input.Changed, Select.Changed):
                self.query_one("#plan", Input).value = ", ".join(plan)
                if plan:
                    self.query_one("#policy", Select).value = "fixed"
            self.validate()
            return
        # Hidden (searched-out) personas stay chosen; visible ones follow the widget.
        visible = {str(widget.get_option_at_index(i).value) for i in range(widget.option_count)}
        selected = [str(v) for v in widget.selected]
        kept = [v for v in self.chosen if v not in visible or v in selected]
        self.chosen = kept + [v for v in selected if v not in kept]
        self.validate()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.validate()

    # -- validation ----------------------------------------------------------------------------

    def _value(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value

    def build(self) -> tuple[Any, list[str]]:
        """The BatchSpec the form describes, or the problems with it."""
        from engine.batch.spec import spec_from_dict

        errors: list[str] = []
        data: dict[str, Any] = {
            **{k: v for k, v in self.extra.items() if k != "sim"},
            "name": self._value("name").strip() or "batch",
            "pairing": self.query_one("#pairing", Select).value,
            "model": self._value("model").strip() or "sim",
            "base_url": self._value("base_url").strip() or None,
            "out": str(self.out_dir),
            "personas": list(self.chosen),
            "policy": self.query_one("#policy", Select).value,
        }
        sim = parse_sim_options(self._value("sim"), errors)
        if sim:
            data["sim"] = sim
        for field in ("scenes", "beats", "replicates", "concurrency", "seed"):
            value = _int(self._value(field), field, errors)
            if value is not None:
                data[field] = value
        plan = self._plan()
        if plan:
            data["plan"] = plan
            data["policy"] = "fixed"
        if data["pairing"] == "explicit":
            pairs = []
            for chunk in self._value("pairs").split(","):
                if not chunk.strip():
                    continue
                a, sep, b = chunk.partition(":")
                if not sep or not a.strip() or not b.strip():
                    errors.append(f"pairs: '{chunk.strip()}' is not 'a:b'")
                else:
                    pairs.append((a.strip(), b.strip()))
            data["pairs"] = pairs
            data.pop("personas")
        elif len(self.chosen) < 2:
            errors.append("personas: pick at least two")
        if errors:
            return None, errors
        try:
            spec = spec_from_dict(data, "launch")
            spec.expand()
        except ConfigError as exc:
            return None, [p.strip() for p in str(exc).removeprefix("launch: ").split("; ")]
        return spec, []

    def validate(self) -> None:
        model = self._value("model").strip() or "sim"
        self.query_one("#model-label", Static).update(
            Text(SIM_LABEL, style="bold yellow") if model == "sim" else safe(model)
        )
        spec, errors = self.build()
        self.spec = spec
        est = self.query_one("#estimate", Static)
        if spec is not None:
            sims = len(spec.expand())
            est.update(
                Text(
                    f"{plural(sims, 'simulation')} · about {count(spec.estimated_calls())} "
                    f"{'simulated ' if spec.model == 'sim' else ''}LLM calls "
                    f"({spec.scenes} scenes × {spec.beats} beats)",
                    style="bold",
                )
            )
        else:
            est.update(Text("—", style="dim"))
        self.query_one("#errors", Static).update(
            Text("\n".join(f"✖ {e}" for e in errors), style="red") if errors else ""
        )
        self.query_one("#start", Button).disabled = spec is None
        self.query_one("#persona-count", Label).update(
            f"Personas: {len(self.chosen)} picked (space picks; / searches)")

    # -- actions -------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        elif event.button.id == "demo":
            self.action_load_demo()

    def action_load_demo(self) -> None:
        from engine.batch.spec import demo_batch_path

        self.load_file(demo_batch_path())

    def load_file(self, path: Any) -> None:
        """Fill the form from a batch file."""
        from engine.batch.spec import load_batch

        try:
            spec = load_batch(path)
            personas = (
                [p.id or p.name for p in spec.resolve_personas()]
                if spec.pairing != "explicit"
                else []
            )
        except ConfigError as exc:
            self.query_one("#errors", Static).update(safe(str(exc), "red"))
            return
        self.fill(spec, personas)

    def fill(self, spec: Any, personas: list[str]) -> None:
        # Fields the form has no widget for are kept from the file.
        self.extra = {k: v for k, v in (("scenarios", getattr(spec, "scenarios", None)),
                                        ("commitment_samples", spec.commitment_samples))
                      if v not in (None, 1)}
        self.chosen = list(personas)
        values = {
            "name": spec.name,
            "scenes": spec.scenes,
            "beats": spec.beats,
            "replicates": spec.replicates,
            "concurrency": spec.concurrency,
            "model": spec.model,
            "base_url": spec.base_url or "",
            "seed": spec.seed,
            "plan": ", ".join(spec.plan or []),
            "pairs": ", ".join(f"{a}:{b}" for a, b in spec.pairs),
            "sim": ", ".join(f"{k}={v:g}" for k, v in spec.sim.items()),
        }
        with self.prevent(Input.Changed, Select.Changed):
            for wid, value in values.items():
                self.query_one(f"#{wid}", Input).value = str(value)
            self.query_one("#pairing", Select).value = spec.pairing
            self.query_one("#policy", Select).value = spec.policy
            self.query_one("#search", Input).value = ""
        self._fill_personas("")
        self._fill_turning_points()
        self.validate()

    def action_start(self) -> None:
        self.validate()
        if self.spec is None:
            self.notify("fix the errors first", severity="error")
            return
        if self.spec.model == "sim":
            self.post_message(StartBatch(self.spec))
            return
        # A remote model is checked the way `relsim check` does before the batch starts: a
        # wrong key, a dead server or a model that cannot do structured output shows here.
        self.query_one("#errors", Static).update(safe("checking the endpoint…", "yellow"))
        self.check_then_start(self.spec)

    @work(exclusive=True, group="check")
    async def check_then_start(self, spec: Any) -> None:
        from engine.errors import RelsimError
        from engine.llm.probe import probe
        from engine.llm.settings import parse_model

        errors = self.query_one("#errors", Static)
        try:
            settings = parse_model(spec.model, base_url=spec.base_url,
                                   embed_model=spec.embed_model)
            report = await probe(settings)
        except RelsimError as exc:
            errors.update(safe(str(exc), "red"))
            return
        lines = Text()
        for check in report.checks:
            lines.append("✔ " if check.ok else "✖ ", style="green" if check.ok else "bold red")
            lines.append_text(safe(f"{check.name}: {check.detail}\n"))
        errors.update(lines)
        if report.ok:
            self.post_message(StartBatch(spec))

    def action_runs(self) -> None:
        if isinstance(self.focused, Input):
            return
        self.post_message(ShowRuns())

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_into_list(self) -> None:
        """Down from the search box moves into the list (elsewhere: the next field)."""
        if self.focused is self.query_one("#search", Input):
            self.query_one("#personas", SelectionList).focus()
        else:
            self.focus_next()

    @work(exclusive=True, group="file")
    async def action_open_file(self) -> None:
        path = await self.app.push_screen_wait(PathScreen("Open a batch file (TOML):"))
        if path:
            self.load_file(Path(path).expanduser())

    @work(exclusive=True, group="file")
    async def action_save_file(self) -> None:
        self.validate()
        if self.spec is None:
            self.notify("fix the errors first", severity="error")
            return
        name = self._value("name").strip() or "batch"
        path = await self.app.push_screen_wait(
            PathScreen("Save the form as a batch file (TOML):", f"{name}.toml"))
        if not path:
            return
        try:
            Path(path).expanduser().write_text(spec_toml(self.spec), encoding="utf-8")
        except OSError as exc:
            self.notify(f"cannot write {path}: {exc}", severity="error", markup=False)
            return
        self.notify(f"saved {path} (run it with: relsim run {path})", timeout=5, markup=False)


def spec_toml(spec: Any) -> str:
    """A batch spec as a batch file: a ``[batch]`` table (and ``[batch.sim]``), leaving out
    what equals the default and the output directory (a property of where it runs)."""
    import tomli_w

    from engine.batch.spec import BatchSpec

    defaults = BatchSpec().model_dump()
    data = spec.model_dump(mode="json", exclude_none=True)
    out = {k: v for k, v in data.items()
           if k != "out" and (k in ("name", "personas") or v != defaults.get(k))}
    if "pairs" in out:
        out["pairs"] = [list(p) for p in out["pairs"]]
    return tomli_w.dumps({"batch": out})
