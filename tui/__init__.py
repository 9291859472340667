"""relsim's Textual dashboard. Only this package imports Textual; ``engine`` never imports it."""

from __future__ import annotations

__all__ = ["RelsimApp"]


def __getattr__(name: str) -> object:
    # Importing the app pulls in Textual; do it only when someone asks for it.
    if name == "RelsimApp":
        from tui.app import RelsimApp

        return RelsimApp
    raise AttributeError(name)
