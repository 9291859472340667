"""Every ``--help`` page renders (argparse formats help strings with %: a bare "95%" broke
``relsim --help`` itself)."""

from __future__ import annotations

import pytest

from engine.cli import COMMANDS
from tui.cli import DASHBOARD_COMMANDS, main


@pytest.mark.parametrize("argv", [[], *([name] for name in [*COMMANDS, *DASHBOARD_COMMANDS])])
def test_help_page_renders(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: relsim")
    assert "--help" in out
