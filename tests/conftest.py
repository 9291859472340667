from __future__ import annotations

import pytest

from engine.llm import registry


@pytest.fixture(autouse=True)
def _default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run on the built-in simulator unless they say otherwise."""
    monkeypatch.delenv("RELSIM_MODEL", raising=False)
    monkeypatch.delenv("RELSIM_BASE_URL", raising=False)
    monkeypatch.delenv("RELSIM_HTTP_CLIENT", raising=False)
    registry._shared.clear()
