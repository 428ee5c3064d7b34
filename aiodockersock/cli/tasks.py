"""asyncio helpers of the commands: cancel tasks and wait for them (a shielded cleanup is
:func:`aiodockersock._args.shielded`)."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["cancel"]


async def cancel(*tasks: asyncio.Future[Any]) -> None:
    """Cancel tasks and wait until they are done; their errors are dropped."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved"
