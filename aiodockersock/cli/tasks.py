"""asyncio helpers of the commands: :func:`cancel` (the library's own, from ``_args``; a shielded
cleanup is :func:`aiodockersock._args.shielded`)."""

from __future__ import annotations

from .._args import cancel

__all__ = ["cancel"]
