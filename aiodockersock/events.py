"""The events area of the Engine API: ``docker.events(...)``."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

from ._exceptions import InvalidArgument
from ._streams import EventStream
from ._transport import Transport

__all__ = ["Events", "TimeSpec", "format_time"]

#: A point in time as ``events()`` takes it: a ``datetime`` (naive means UTC), a ``timedelta``
#: relative to now (``timedelta(minutes=-5)`` is five minutes ago), seconds since the epoch, or
#: the Engine's own string form (``"1700000000.000000001"``, ``"10m"``, RFC 3339).
TimeSpec = datetime | timedelta | int | float | str


def format_time(value: TimeSpec) -> str:
    """Render a point in time as the Engine's ``seconds[.nanoseconds]``.

    Raises:
        InvalidArgument: the value is of another type or before the epoch.
    """
    if isinstance(value, str):
        if not value:
            raise InvalidArgument("an empty string is not a point in time")
        return value
    if isinstance(value, bool):
        raise InvalidArgument("a bool is not a point in time")
    if isinstance(value, timedelta):
        value = time.time() + value.total_seconds()
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.timestamp()
    if isinstance(value, int):
        nanos = value * 1_000_000_000
    elif isinstance(value, float):
        nanos = round(value * 1_000_000_000)
    else:
        raise InvalidArgument(
            f"a point in time must be a datetime, timedelta, number or str, not "
            f"{type(value).__name__}"
        )
    if nanos <= 0:
        raise InvalidArgument(f"{value!r} is not after the epoch (the Engine ignores since=0)")
    seconds, frac = divmod(nanos, 1_000_000_000)
    return f"{seconds}.{frac:09d}"


class Events:
    """Live events of the daemon: ``docker.events(filters=...)``."""

    __slots__ = ("_t",)

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def __call__(
        self,
        *,
        since: TimeSpec | None = None,
        until: TimeSpec | None = None,
        filters: Mapping[str, str | Sequence[str]] | None = None,
        max_line: int = 64 * 1024 * 1024,
    ) -> EventStream:
        """Stream the daemon's events as typed ``EventMessage`` structs.

        ``GET /events``

        Use as ``async with docker.events(...) as stream: async for ev in stream: ...``, or
        iterate it directly and ``await stream.aclose()`` when done.

        Args:
            since: replay events from this point on (the daemon keeps its last 256).
            until: stop at this point; the stream then ends cleanly. Without it the stream is
                endless.
            filters: e.g. ``{"type": "container", "event": ["start", "die"],
                "label": "app=web"}``; values of one key are ORed, different keys ANDed.
            max_line: the longest event line accepted, in bytes.

        Returns:
            An ``EventStream`` (not yet connected).

        Raises:
            InvalidArgument: ``since``/``until`` is not a point in time.
        """
        return EventStream(
            self._t,
            {
                "since": format_time(since) if since is not None else None,
                "until": format_time(until) if until is not None else None,
                "filters": filters or None,
            },
            max_line=max_line,
        )
