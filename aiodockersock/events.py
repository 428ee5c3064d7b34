"""The events area of the Engine API: ``docker.events(...)``."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, Union, overload

from ._args import Filters
from ._exceptions import InvalidArgument
from ._hub import EventHub
from ._streams import EventStream, ReconnectPolicy, format_nanos
from ._transport import Transport
from .models.events import EventGap, EventMessage

__all__ = ["EventFilters", "Events", "TimeSpec", "event_stream", "format_time"]

#: A point in time as ``events()`` takes it: a ``datetime`` (naive means UTC), a ``timedelta``
#: relative to now (``timedelta(minutes=-5)`` is five minutes ago), seconds since the epoch, or
#: a string: the Engine's ``"1700000000.000000001"``, a duration before now as the Docker CLI
#: takes it (``"10m"``, ``"1h30m"``, ``"45s"``), or an ISO 8601 / RFC 3339 date-time.
TimeSpec = Union[datetime, timedelta, int, float, str]  # noqa: UP007 (a runtime alias)

#: Filters as the Engine takes them: each key to one value or a list of values.
EventFilters = Filters

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_DEFAULT_POLICY = ReconnectPolicy()
_NO_RECONNECT = ReconnectPolicy(attempts=0)


def format_time(value: TimeSpec) -> str:
    """Render a point in time as the Engine's ``seconds.nanoseconds``.

    Raises:
        InvalidArgument: the value is of another type, or not after the epoch.
    """
    if isinstance(value, str):
        return _format_text(value)
    if isinstance(value, bool):
        raise InvalidArgument("a bool is not a point in time")
    nanos: int
    if isinstance(value, timedelta):
        nanos = time.time_ns() + (value // timedelta(microseconds=1)) * 1000
    elif isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        nanos = ((aware - _EPOCH) // timedelta(microseconds=1)) * 1000
    elif isinstance(value, int):
        nanos = value * 1_000_000_000
    elif isinstance(value, float):
        whole = int(value)
        nanos = whole * 1_000_000_000 + round((value - whole) * 1e9)
    else:
        raise InvalidArgument(
            "a point in time must be a datetime, timedelta, number or str, not "
            f"{type(value).__name__}"
        )
    if nanos <= 0:
        raise InvalidArgument(
            f"{value!r} is not after the epoch (the Engine reads since=0 as 'no since')"
        )
    return format_nanos(nanos)


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(h|ms|m|s))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ENGINE_TIME = re.compile(r"\d+(?:\.\d{1,9})?")


def _format_text(text: str) -> str:
    value = text.strip()
    if _ENGINE_TIME.fullmatch(value):
        seconds, _, frac = value.partition(".")
        if int(seconds) == 0 and not frac.strip("0"):
            raise InvalidArgument(
                "0 is not after the epoch (the Engine reads since=0 as 'no since')"
            )
        return f"{seconds}.{frac.ljust(9, '0')}"
    if _DURATION.fullmatch(value):
        ago = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))
        return format_nanos(time.time_ns() - round(ago * 1e9))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            f"{text!r} is not a point in time: use seconds since the epoch, a duration before "
            "now ('10m', '1h30m') or an ISO 8601 date-time ('2024-05-01T12:00:00Z')"
        ) from None
    return format_time(parsed)


class Events:
    """Live events of the daemon: ``docker.events(filters=...)``."""

    __slots__ = ("_t",)

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @overload
    def __call__(
        self,
        *,
        since: TimeSpec | None = ...,
        until: TimeSpec | None = ...,
        filters: EventFilters | None = ...,
        reconnect: ReconnectPolicy | bool = ...,
        on_gap: Literal["raise"] = ...,
        on_malformed: Literal["raise", "skip"] = ...,
        max_line: int = ...,
        stall_limit: float = ...,
    ) -> EventStream[EventMessage]: ...

    @overload
    def __call__(
        self,
        *,
        since: TimeSpec | None = ...,
        until: TimeSpec | None = ...,
        filters: EventFilters | None = ...,
        reconnect: ReconnectPolicy | bool = ...,
        on_gap: Literal["yield"],
        on_malformed: Literal["raise", "skip"] = ...,
        max_line: int = ...,
        stall_limit: float = ...,
    ) -> EventStream[EventMessage | EventGap]: ...

    def __call__(
        self,
        *,
        since: TimeSpec | None = None,
        until: TimeSpec | None = None,
        filters: EventFilters | None = None,
        reconnect: ReconnectPolicy | bool = True,
        on_gap: Literal["raise", "yield"] = "raise",
        on_malformed: Literal["raise", "skip"] = "raise",
        max_line: int = 64 * 1024 * 1024,
        stall_limit: float = 0.1,
    ) -> EventStream[EventMessage] | EventStream[EventMessage | EventGap]:
        """Stream the daemon's events as typed ``EventMessage`` structs.

        ``GET /events``

        Use as ``async with docker.events(...) as stream: async for ev in stream: ...``, or
        iterate it directly and ``await stream.aclose()`` when done. Every event is delivered
        once, in order, across reconnects.

        Args:
            since: replay events from this point on (the daemon keeps only its last 256).
            until: end the stream cleanly at this point; without it the stream is endless.
            filters: e.g. ``{"type": "container", "event": ["start", "die"],
                "label": "app=web"}``; values of one key are ORed, different keys ANDed.
            reconnect: resume a lost connection (``True``: up to 10 attempts with backoff
                from 0.1 s to 5 s; ``False``: raise ``StreamBroken`` at once; or a
                ``ReconnectPolicy``).
            on_gap: when a resume cannot prove that no event was missed: ``"raise"``
                ``EventsLost`` (iterate on afterwards) or ``"yield"`` an ``EventGap`` in the
                stream.
            on_malformed: a line that does not decode: ``"raise"`` a ``DecodeError`` naming it
                (iterate on afterwards) or ``"skip"`` it and count it in ``stats.malformed``.
            max_line: the longest event line accepted, in bytes (``LineTooLong`` past it).
            stall_limit: seconds the consumer may leave the connection unread; past that, with
                the read buffer full, dockerd may have dropped events and a gap is reported
                (``on_gap``).

        Returns:
            An ``EventStream``, not yet connected.

        Raises:
            InvalidArgument: ``since``/``until`` is not a point in time, or an option is
                unknown.
        """
        return event_stream(
            self._t,
            since=since, until=until, filters=filters, reconnect=reconnect, on_gap=on_gap,
            on_malformed=on_malformed, max_line=max_line, stall_limit=stall_limit,
        )

    def hub(
        self,
        *,
        since: TimeSpec | None = None,
        filters: EventFilters | None = None,
        reconnect: ReconnectPolicy | bool = True,
        on_malformed: Literal["raise", "skip"] = "raise",
        max_line: int = 64 * 1024 * 1024,
        stall_limit: float = 0.1,
    ) -> EventHub:
        """One event stream shared by many consumers, each with its own bounded buffer.

        ``GET /events`` (one connection, opened when the first subscriber joins and closed
        when the last leaves).

        Use as ``async with docker.events.hub(...) as hub:`` and then
        ``async with hub.subscribe(maxsize=..., policy=...) as sub: async for ev in sub:``.

        Args:
            since: replay from this point for the first subscribers.
            filters: as for ``docker.events()``; shared by every subscriber.
            reconnect: as for ``docker.events()``.
            on_malformed: as for ``docker.events()``; a raised ``DecodeError`` ends every
                subscription.
            max_line: as for ``docker.events()``.
            stall_limit: seconds a ``"wait"`` subscriber may hold the reader up before the hub
                checks whether dockerd may have dropped events meanwhile (it drops what a full
                subscriber queue does not take within 100 ms) and, if so, sends a gap notice.

        Returns:
            An ``EventHub`` (enter it with ``async with``).
        """
        def open_stream() -> EventStream[EventMessage | EventGap]:
            return event_stream(
            self._t,
                since=since, until=None, filters=filters, reconnect=reconnect, on_gap="yield",
                on_malformed=on_malformed, max_line=max_line, stall_limit=stall_limit,
            )

        open_stream()  # validates the arguments now rather than at the first subscribe
        return EventHub(open_stream, stall_limit=stall_limit)


def event_stream(
    transport: Transport,
    *,
    since: TimeSpec | None = None,
    until: TimeSpec | None = None,
    filters: EventFilters | None = None,
    reconnect: ReconnectPolicy | bool = True,
    on_gap: Literal["raise", "yield"] = "raise",
    on_malformed: Literal["raise", "skip"] = "raise",
    max_line: int = 64 * 1024 * 1024,
    stall_limit: float = 0.1,
) -> EventStream[Any]:
    """Check the options and make an (unconnected) event stream; see ``Events.__call__``.

    Raises:
        InvalidArgument: an option is unknown or out of range.
    """
    if on_gap not in ("raise", "yield"):
        raise InvalidArgument(f"on_gap must be 'raise' or 'yield', not {on_gap!r}")
    if on_malformed not in ("raise", "skip"):
        raise InvalidArgument(f"on_malformed must be 'raise' or 'skip', not {on_malformed!r}")
    if max_line < 1024:
        raise InvalidArgument(f"max_line must be at least 1024 bytes, not {max_line}")
    if isinstance(reconnect, bool):
        policy = _DEFAULT_POLICY if reconnect else _NO_RECONNECT
    elif isinstance(reconnect, ReconnectPolicy):
        policy = reconnect
    else:
        raise InvalidArgument("reconnect must be a bool or a ReconnectPolicy")
    return EventStream(
        transport,
        since=format_time(since) if since is not None else None,
        until=format_time(until) if until is not None else None,
        filters=filters,
        max_line=max_line,
        reconnect=policy,
        on_gap=on_gap,
        on_malformed=on_malformed,
        stall_limit=stall_limit,
    )
