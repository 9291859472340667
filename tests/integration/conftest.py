from __future__ import annotations

import pytest

from engine.llm.settings import HTTP_CLIENTS, HttpClientName
from tests.servers import sim_server  # noqa: F401  (the fixture)


@pytest.fixture(params=HTTP_CLIENTS)
def http_client(request: pytest.FixtureRequest) -> HttpClientName:
    """A test that takes this runs once per HTTP client library (pyreqwest, httpx)."""
    return request.param  # type: ignore[no-any-return]
