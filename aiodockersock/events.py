"""The events area of the Engine API: ``docker.events(...)``."""

from __future__ import annotations

from typing import Literal, overload

from ._args import Filters, TimeSpec, format_time
from ._hub import EventHub
from ._streams import EventStream, ReconnectPolicy, event_stream
from ._transport import Area
from .models.events import EventGap, EventMessage

__all__ = ["EventFilters", "Events", "TimeSpec", "format_time"]

#: Filters as the Engine takes them: each key to one value or a list of values.
EventFilters = Filters


class Events(Area):
    """Live events of the daemon: ``docker.events(filters=...)``."""

    __slots__ = ()

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
        once, in order, across reconnects. From Podman's service the events come as Docker
        sends them: a container's removal is ``destroy`` (Podman: ``remove``), its extra
        ``init`` and ``cleanup`` are left out unless the ``event`` filter names them, and
        ``since``/``until`` mean what they mean on Docker (docs/engines.md).

        Args:
            since: replay events from this point on (the daemon keeps only its last 256).
            until: end the stream cleanly at this point; without it the stream is endless.
            filters: e.g. ``{"type": "container", "event": ["start", "die"],
                "label": "app=web"}``; values of one key are ORed, different keys ANDed,
                except ``label``: ``"k"`` or ``"k=v"``, every one must match (on Podman, whose
                service gets it wrong, the ``label`` filter is applied in the client).
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
