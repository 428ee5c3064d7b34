"""asyncio helpers of the commands: cancel tasks and wait for them, run a cleanup shielded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

__all__ = ["cancel", "shielded"]


async def cancel(*tasks: asyncio.Future[Any]) -> None:
    """Cancel tasks and wait until they are done; their errors are dropped."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved"


async def shielded(coro: Awaitable[Any]) -> None:
    """Run a cleanup to its end even when the command is being cancelled (Ctrl-C)."""
    task = asyncio.ensure_future(coro)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise
