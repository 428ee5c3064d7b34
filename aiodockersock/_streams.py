"""Streams over the transport: bytes in, framing, decoded values out.

:class:`EventStream` reads ``GET /events``: the body is read in whatever chunks arrive, split on
``\\n`` over a carried tail, and each complete line is decoded with one reused msgspec decoder
(from a ``memoryview`` slice, without copying) into an :class:`EventMessage`.

Silent drops. dockerd drops an event for a subscriber whose queue (1024 events) stays full for
100 ms, and says nothing. That needs a connection the client has stopped reading: so when the
consumer leaves the socket unread for longer than ``stall_limit`` and the client's read buffer
is at its high-water mark when it comes back, the stream reports a possible gap (``EventsLost``,
or an ``EventGap`` with ``until_nano=None``) before going on. A smaller backlog cannot have cost
anything and is not reported.

Resume. The stream remembers the ``time_nano`` of the last event it received and the events
received at that very nanosecond (the boundary). When the connection drops it reconnects with
``since=<that time_nano>``; the daemon's replay is inclusive (``TimeNano >= since``), so the
boundary events come again and are dropped. Seeing one of them again proves that nothing was
missed in between (the daemon's replay buffer still reached back to it); not seeing one means
events may be lost (the outage outlasted the daemon's 256-event buffer, or the daemon
restarted), and the consumer is told with an :class:`EventGap` or :class:`EventsLost`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import msgspec

from ._args import Filters, TimeSpec, format_nanos, format_time
from ._exceptions import (
    DecodeError,
    DockerConnectionError,
    DockerError,
    EventsLost,
    InvalidArgument,
    StreamBroken,
    StreamClosed,
)
from ._framing import BadLine, LineDecoder, LineTooLong
from ._podman import (
    docker_event,
    event_filters,
    has_labels,
    podman_until,
    resume_since,
    split_label_filter,
)
from ._resource import Resource
from ._transport import QueryValue, StreamResponse, Transport
from .models.events import EventGap, EventMessage, with_legacy_fields

__all__ = ["EventStream", "EventStreamStats", "ReconnectPolicy", "ResponseStream", "event_stream"]

T = TypeVar("T")

_EVENT_DECODER: msgspec.json.Decoder[EventMessage] = msgspec.json.Decoder(EventMessage)
_NS = 1_000_000_000
_READ_AHEAD = 16 * 1024  # bytes decoded ahead of the consumer at most (see benchmarks/EVENTS.md)


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a stream reconnects after its connection drops.

    Attributes:
        attempts: consecutive failed attempts before giving up with ``StreamBroken``
            (0 turns resuming off; ``None``: never give up, as a fleet does for a host that
            may come back). A successful reconnect resets the count.
        initial_delay: seconds before the first attempt.
        max_delay: the longest wait between attempts.
        multiplier: how much the wait grows after each failed attempt.
    """

    attempts: int | None = 10
    initial_delay: float = 0.1
    max_delay: float = 5.0
    multiplier: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (1-based)."""
        # the exponent is capped: a stream that never gives up must not overflow a float
        growth = self.multiplier ** min(attempt - 1, 64)
        return float(min(self.max_delay, self.initial_delay * growth))


@dataclass(frozen=True)
class EventStreamStats:
    """Counters of an :class:`EventStream`, for a service to log.

    Attributes:
        delivered: events handed to the consumer.
        reconnects: successful reconnects after a lost connection.
        duplicates: replayed events dropped after a reconnect (already delivered).
        malformed: lines that did not decode and were skipped (``on_malformed="skip"``).
        gaps: reconnects after which continuity could not be proven.
        last_time_nano: ``time_nano`` of the newest event received, or ``None``.
        lag: seconds between the newest delivered event and now (``None`` before the first).
    """

    delivered: int
    reconnects: int
    duplicates: int
    malformed: int
    gaps: int
    last_time_nano: int | None
    lag: float | None


class ResponseStream(Resource):
    """A stream that owns one open :class:`StreamResponse` (in ``_resp``): entering opens it,
    closing drops its connection (an endless stream cannot go back to the pool)."""

    _resp: StreamResponse | None

    async def open(self) -> None:
        """Connect now (otherwise the first read does)."""
        raise NotImplementedError

    async def _enter(self) -> None:
        await self.open()

    def _release(self) -> None:
        resp, self._resp = self._resp, None
        if resp is not None:
            resp.close()

    def _holds(self) -> bool:
        return self._resp is not None


class EventStream(ResponseStream, Generic[T]):
    """A live stream of Engine events: an async iterator and an async context manager.

    Made by ``docker.events(...)``. The connection opens on ``async with`` or on the first
    ``__anext__`` and closes on :meth:`aclose`, when the context exits, when ``until`` is
    reached, or when the consumer is cancelled. A lost connection is resumed (see the module
    docstring); when resuming is off or gives up, :class:`StreamBroken` is raised — the stream
    never just stops.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        since: str | None,
        until: str | None,
        filters: Mapping[str, Any] | None,
        max_line: int,
        reconnect: ReconnectPolicy,
        on_gap: Literal["raise", "yield"],
        on_malformed: Literal["raise", "skip"],
        stall_limit: float = 0.1,
        on_connection: Callable[[DockerError | None], None] | None = None,
    ) -> None:
        self._t = transport
        self._on_connection = on_connection
        self._stall_limit = stall_limit
        self._last_read = 0.0
        self._since = since
        self._until = until
        self._filters = filters
        # on Podman (known at the first connection) its differences are evened out here
        # (_podman.py): the label filter applied in the client, events renamed as Docker's,
        # those Docker never sends dropped (unless asked for), and since/until adjusted
        self._podman: bool | None = None
        self._labels: list[str] = []
        self._asked: frozenset[str] = frozenset()
        self._until_nano: int | None = None
        self._max_line = max_line
        self._policy = reconnect
        self._gap_yields = on_gap == "yield"
        self._skip_malformed = on_malformed == "skip"
        self._resp: StreamResponse | None = None
        self._close_reason = "it was closed"
        self._legacy = False
        self._lines: LineDecoder[EventMessage] = LineDecoder(_EVENT_DECODER, max_line)
        # items ready for the consumer; besides events it may hold markers (an EventGap, or an
        # exception to raise in order) — then _markers > 0 and the slow path checks each item
        self._pending: deque[Any] = deque()
        self._markers = 0
        # resume state
        self._last_nano: int | None = None
        self._boundary: list[EventMessage] = []
        self._resuming = False
        self._proven = False
        self._connected_ns = 0
        # counters
        self._received = 0
        self._reconnects = 0
        self._duplicates = 0
        self._malformed = 0
        self._gaps = 0
        self._current: EventMessage | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def open(self) -> None:
        """Connect now (the daemon subscribes the stream as it answers).

        Raises:
            StreamClosed: the stream was closed already.
            APIError: the daemon refused the request (e.g. a bad filter).
            DockerConnectionError: the daemon cannot be reached.
        """
        if self._closed:
            raise StreamClosed(f"this event stream is closed ({self._close_reason})")
        if self._resp is None:
            await self._connect()

    async def _connect(self) -> None:
        if self._podman is None:
            self._podman = await self._t.is_podman()
            if self._podman:
                self._filters, self._labels = split_label_filter(self._filters)
                self._filters, self._asked = event_filters(self._filters)
                if self._until is not None:
                    seconds, _, fraction = self._until.partition(".")
                    self._until_nano = int(seconds) * _NS + int(fraction.ljust(9, "0")[:9])
        since = self._since
        if self._last_nano is not None:
            # Podman's since is exclusive: a nanosecond earlier replays the boundary too
            since = format_nanos(
                resume_since(self._last_nano) if self._podman else self._last_nano)
        elif self._connected_ns and since is None:
            # nothing received yet: pick up from a second before the first connection
            since = format_nanos(self._connected_ns - _NS)
        until = self._until
        if self._until_nano is not None:  # Podman: an until already past would end it at once
            until = format_nanos(podman_until(self._until_nano, time.time_ns()))
        query: dict[str, QueryValue] = {
            "since": since,
            "until": until,
            "filters": self._filters or None,
        }
        self._resp = await self._t.stream("GET", "/events", query=query)
        if not self._connected_ns:
            self._connected_ns = time.time_ns()
            self._legacy = await self._t.api_at_least("1.52")

    _resource_name = "an EventStream"

    # -- observation ---------------------------------------------------------------------

    @property
    def stats(self) -> EventStreamStats:
        """A snapshot of the stream's counters."""
        current = self._current
        lag = None
        if current is not None and current.time_nano is not None:
            lag = (time.time_ns() - current.time_nano) / _NS
        return EventStreamStats(
            delivered=self._received - self._queued_events(),
            reconnects=self._reconnects,
            duplicates=self._duplicates,
            malformed=self._malformed,
            gaps=self._gaps,
            last_time_nano=self._last_nano,
            lag=lag,
        )

    def _queued_events(self) -> int:
        if not self._markers:
            return len(self._pending)
        return sum(1 for item in self._pending if type(item) is EventMessage)

    # -- iteration -----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[T]:
        # an async generator over the same state: resuming it per event is cheaper than a
        # coroutine per __anext__ call; it holds no cancel scope or resource across its yield
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        pending = self._pending
        popleft = pending.popleft
        while True:
            if pending and not self._markers:
                event = self._current = popleft()
                yield event
                continue
            try:
                item = await self._next_slow()
            except StopAsyncIteration:
                return
            except asyncio.CancelledError:
                self._close_reason = "its consumer was cancelled"
                self.close()
                raise
            yield item

    async def __anext__(self) -> T:
        pending = self._pending
        if pending and not self._markers:
            event = self._current = pending.popleft()
            return event  # type: ignore[no-any-return]
        try:
            return await self._next_slow()  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            self._close_reason = "its consumer was cancelled"
            self.close()
            raise

    async def _take(self, most: int) -> list[Any]:
        """The next items in order, at most ``most`` (≥ 1) of them: for a reader that passes
        events on (the fleet), one call per chunk read instead of one iteration per event.

        A list of events, or one item from the slow path (an event, or an ``EventGap`` in
        ``on_gap="yield"`` mode); raises what ``__anext__`` raises (``StopAsyncIteration`` at
        the end).
        """
        pending = self._pending
        if not pending or self._markers:
            first = await self._next_slow()
            # the read that brought it decoded the chunk's other events too: take them along
            # (one step of the caller per chunk, not two)
            if type(first) is not EventMessage or not pending or self._markers or most < 2:
                return [first]
            batch = [first]
            most -= 1
        else:
            batch = []
        if len(pending) <= most:
            batch += pending
            pending.clear()
        else:
            popleft = pending.popleft
            batch += [popleft() for _ in range(most)]
        self._current = batch[-1]
        return batch

    async def _next_slow(self) -> Any:
        pending = self._pending
        while True:
            if pending:
                item = pending.popleft()
                if type(item) is EventMessage:
                    self._current = item
                    return item
                self._markers -= 1
                if isinstance(item, BaseException):
                    raise item
                return item  # an EventGap, in on_gap="yield" mode
            resp = self._resp
            if resp is None:
                if self._closed:
                    raise StreamClosed(f"this event stream is closed ({self._close_reason})")
                await self._connect()  # the first connection (a lost one goes through _resume)
                continue
            if (
                self._last_read
                and time.monotonic() - self._last_read > self._stall_limit
                and resp.saturated
            ):
                # the consumer left the socket unread so long that dockerd may have dropped
                self._last_read = time.monotonic()
                self._report_gap(None)
                continue
            try:
                # a bounded read: decoding far ahead of the consumer costs cache misses
                chunk = await resp.read_chunk(_READ_AHEAD)
            except DockerConnectionError as exc:
                await self._resume(exc)
                continue
            self._last_read = time.monotonic()
            if chunk:
                self._feed(chunk)
                continue
            # the daemon ended the body cleanly: with 'until' that is the end (an outage shows
            # as a broken body instead), without it the daemon went away: resume
            if self._until is not None:
                if self._lines.pending:
                    self._push_error(
                        DecodeError("the event stream ended inside a line",
                                    data=self._lines.pending)
                    )
                    self._lines.reset()
                    continue
                self._close_reason = "it reached its 'until' time"
                self.close()
                raise StopAsyncIteration
            await self._resume(None)

    async def _resume(self, cause: DockerError | None) -> None:
        """Reconnect after the connection dropped, or raise StreamBroken."""
        resp, self._resp = self._resp, None
        if resp is not None:
            resp.close()
        self._lines.reset()  # an unfinished line is replayed whole after the reconnect
        address = self._t.host.address
        reason = str(cause) if cause is not None else "the daemon ended the event stream"
        policy = self._policy
        if self._on_connection is not None:
            self._on_connection(cause or DockerConnectionError(reason, address=address))
        if policy.attempts is not None and policy.attempts <= 0:
            self._close_reason = "its connection was lost"
            self.close()
            raise StreamBroken(
                f"the event stream from {address} was lost ({reason}); resuming is off",
                address=address,
            ) from cause
        last_error: DockerError | None = cause
        attempts = itertools.count(1) if policy.attempts is None else range(1, policy.attempts + 1)
        for attempt in attempts:
            await asyncio.sleep(policy.delay(attempt))
            if self._closed:
                raise StreamClosed(f"this event stream is closed ({self._close_reason})")
            try:
                await self._connect()
            except DockerConnectionError as exc:
                last_error = exc
                continue
            except DockerError:
                self.close()
                raise
            self._reconnects += 1
            self._resuming = self._last_nano is not None
            self._proven = False
            if self._on_connection is not None:
                self._on_connection(None)
            return
        self._close_reason = "its connection was lost"
        self.close()
        raise StreamBroken(
            f"the event stream from {address} was lost ({reason}) and {policy.attempts} "
            f"reconnect attempts failed; last error: {last_error}",
            address=address,
        ) from last_error

    # -- decoding ------------------------------------------------------------------------

    def _push_error(self, exc: BaseException) -> None:
        self._pending.append(exc)
        self._markers += 1

    def _feed(self, chunk: bytes) -> None:
        items = self._lines.feed(chunk)
        if not self._lines.bad:
            if items:
                self._accept(items)  # type: ignore[arg-type]
            return
        events: list[EventMessage] = []
        for item in items:
            if type(item) is EventMessage:
                events.append(item)
                continue
            assert isinstance(item, BadLine)
            if isinstance(item.error, LineTooLong):
                self._close_reason = "a line was too long"
                self.close()
            elif self._skip_malformed:
                self._malformed += 1
                continue
            # deliver what came before the bad line, then raise, then go on after it
            if events:
                self._accept(events)
                events = []
            self._push_error(item.error)
        if events:
            self._accept(events)

    def _accept(self, events: list[EventMessage]) -> None:
        if self._podman:
            events = self._as_docker(events)
            if not events:
                return
        labels = self._labels
        if labels:
            events = [
                e for e in events
                if has_labels(e.actor.attributes if e.actor is not None else None, labels)
            ]
            if not events:
                return
        if self._resuming:
            events = self._drop_replayed(events)
            if not events:
                return
        if self._legacy:
            events = [with_legacy_fields(e) for e in events]
        # remember the boundary: the trailing events at the newest time_nano
        last = events[-1].time_nano or 0
        n = len(events)
        i = n - 1
        while i > 0 and (events[i - 1].time_nano or 0) == last:
            i -= 1
        if i == 0 and last == self._last_nano:
            self._boundary.extend(events)
        else:
            self._boundary = events[i:] if i else list(events)
        self._last_nano = last
        self._received += n
        self._pending.extend(events)

    def _as_docker(self, events: list[EventMessage]) -> list[EventMessage]:
        """Podman's events as Docker sends them (:func:`docker_event`), none past ``until``."""
        until, asked = self._until_nano, self._asked
        kept = []
        for event in events:
            docker = docker_event(event, asked)
            if docker is not None and (until is None or (docker.time_nano or 0) <= until):
                kept.append(docker)
        return kept

    def _drop_replayed(self, events: list[EventMessage]) -> list[EventMessage]:
        last = self._last_nano or 0
        kept: list[EventMessage] = []
        for index, event in enumerate(events):
            nano = event.time_nano or 0
            if nano < last:
                self._duplicates += 1
                continue
            if nano == last:
                if event in self._boundary:
                    self._duplicates += 1
                    self._proven = True
                else:
                    kept.append(event)
                continue
            # past the boundary: the replay of what we had is over
            self._resuming = False
            if not self._proven:
                # the notice goes before every event not delivered yet
                self._report_gap(kept[0].time_nano or 0 if kept else nano)
            kept.extend(events[index:])
            return kept
        return kept

    def _report_gap(self, until_nano: int | None) -> None:
        self._gaps += 1
        since = self._last_nano or 0
        if self._gap_yields:
            self._pending.append(
                EventGap(since_nano=since, until_nano=until_nano, reconnects=self._reconnects)
            )
            self._markers += 1
        else:
            self._push_error(EventsLost(since, until_nano, self._reconnects))


_DEFAULT_POLICY = ReconnectPolicy()
_NO_RECONNECT = ReconnectPolicy(attempts=0)


def event_stream(
    transport: Transport,
    *,
    since: TimeSpec | None = None,
    until: TimeSpec | None = None,
    filters: Filters | None = None,
    reconnect: ReconnectPolicy | bool = True,
    on_gap: Literal["raise", "yield"] = "raise",
    on_malformed: Literal["raise", "skip"] = "raise",
    max_line: int = 64 * 1024 * 1024,
    stall_limit: float = 0.1,
    on_connection: Callable[[DockerError | None], None] | None = None,
) -> EventStream[Any]:
    """Check the options and make an (unconnected) event stream; see ``Events.__call__``.

    ``on_connection`` (for the fleet) is told when the connection is lost (with the cause),
    before any reconnect attempt, and when it is back (with ``None``).

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
        on_connection=on_connection,
    )
