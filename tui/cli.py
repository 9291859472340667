"""The ``relsim`` command: the engine's commands plus the dashboard's (``dash``, ``demo``).

It lives here, not in ``engine``, so that the engine never imports the dashboard.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from engine import cli

DASHBOARD_COMMANDS = {"dash": "tui.commands.dash", "demo": "tui.commands.demo"}


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, extra=DASHBOARD_COMMANDS)


if __name__ == "__main__":
    sys.exit(main())
