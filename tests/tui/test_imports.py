"""The dashboard's modules import one another one way: no import circle in ``tui/``.

Every import statement counts — module level, inside functions and under ``TYPE_CHECKING`` —
since a circle hidden in a function is still a circle in the design."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def tui_import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in (ROOT / "tui").rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from . import x / from ..screens import y
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from tui.screens import batch` imports the module tui.screens.batch.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base
                           for a in node.names]
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def test_graph_sees_the_dashboard() -> None:
    graph = tui_import_graph()
    assert "tui.app" in graph and "tui.screens.batch" in graph
    assert "tui.screens.batch" in graph["tui.app"]


def test_no_import_circle_in_tui() -> None:
    sorter = graphlib.TopologicalSorter(tui_import_graph())
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import circle in tui/: {' → '.join(exc.args[1])}") from None
