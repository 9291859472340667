"""The one way sync wrappers run their async implementation."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from engine.errors import SyncInAsyncError

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T], async_name: str) -> T:
    """Run ``coro`` to completion on a fresh event loop.

    Refuses inside a running loop: blocking there would deadlock the caller's own loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise SyncInAsyncError(
        "called the sync wrapper inside a running event loop; "
        f"use `await {async_name}(...)` instead"
    )
