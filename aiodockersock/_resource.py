"""One lifecycle for everything that must be closed.

Every stream, the event hub and its subscriptions, the container watch and the client derive
from :class:`AsyncResource`: ``async with`` it (entering may connect), :meth:`~AsyncResource.aclose`
it, ask :attr:`~AsyncResource.closed`, and a ``ResourceWarning`` names it if it is dropped
while it still holds a connection. :class:`Resource` adds the synchronous
:meth:`~Resource.close` that drops the connection at once (what cancellation and error paths
use). Subclasses add behaviour through three hooks — ``_enter`` (what ``async with`` does
first), ``_release`` (drop what is held, synchronously) and ``_holds`` (is anything held) — and
never write ``__aenter__``, ``__aexit__`` or ``__del__`` themselves.
"""

from __future__ import annotations

import contextlib
import warnings
from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncResource", "Resource"]

R = TypeVar("R", bound="AsyncResource")


class AsyncResource:
    """The base of everything that must be closed: ``async with``, :meth:`aclose`,
    :attr:`closed`, and a ``ResourceWarning`` when dropped open."""

    _closed: bool = False
    #: Names the resource in the ResourceWarning (``"an EventStream"``).
    _resource_name: str = "a resource"

    async def aclose(self) -> None:
        """Close it and wait until what it held is released. Safe to call more than once."""
        self._closed = True
        self._release()

    @property
    def closed(self) -> bool:
        """Whether it has been closed."""
        return self._closed

    async def _enter(self) -> None:
        """What ``async with`` does before handing the resource over (nothing by default)."""

    def _release(self) -> None:
        """Drop what it holds, at once (nothing by default)."""

    def _holds(self) -> bool:
        """Whether it still holds something that must be released (a connection, a task)."""
        return False

    async def __aenter__(self: R) -> R:
        await self._enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        try:
            held = self._holds()
        except Exception:  # half-built (its __init__ failed)
            return
        if not held:
            return
        try:
            warnings.warn(
                f"{self._resource_name} was left open; use 'async with' or 'await "
                "….aclose()'",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )
        finally:
            self._closed = True
            with contextlib.suppress(Exception):  # the event loop may be gone already
                self._release()


class Resource(AsyncResource):
    """An :class:`AsyncResource` that can also be closed synchronously."""

    def close(self) -> None:
        """Drop what it holds at once. Safe to call more than once."""
        self._closed = True
        self._release()

    async def aclose(self) -> None:
        """Close it (see :meth:`close`)."""
        self.close()
