"""Command-line startup: ``engine`` imports its public names on first use, so commands that
need no simulation (``--help``, ``runs``, ``analyze``) do not load the model layer."""

from __future__ import annotations

import subprocess
import sys

import pytest

import engine
from tui.cli import main


def fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_every_public_name_resolves() -> None:
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    assert set(engine.__all__) <= set(dir(engine))
    with pytest.raises(ImportError):
        from engine import no_such_name  # type: ignore[attr-defined]  # noqa: F401


def test_the_command_line_does_not_load_the_simulation_stack() -> None:
    loaded = fresh(
        "import sys, tui.cli; from engine import cli, __version__\n"
        "cli.build_parser(tui.cli.DASHBOARD_COMMANDS)\n"
        "print(sorted(m for m in ('engine.llm', 'engine.sim.provider', 'engine.sim.agent',"
        " 'engine.events', 'textual') if m in sys.modules))")
    assert loaded == "[]"


def test_the_simulator_is_found_without_importing_it_first() -> None:
    # The registry imports the simulator's module on the first lookup of a model.
    assert fresh("from engine.llm.registry import resolve_model\n"
                 "print(resolve_model('sim').model)") == "sim"


def test_a_description_from_a_help_string_is_unescaped(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Help strings are %-formatted by argparse ("95 %%"), descriptions are printed as they are.
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    out = capsys.readouterr().out
    assert "Aggregates of a run with 95 % confidence intervals." in out and "%%" not in out
