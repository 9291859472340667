"""Benchmarks run for minutes: lift the default suite's per-test timeout for them."""

from __future__ import annotations

import pytest

BENCH_TIMEOUT_S = 1800


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/perf/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.timeout(BENCH_TIMEOUT_S))
