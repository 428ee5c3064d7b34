"""Fan-out: one event stream feeding many consumers, each with a bounded buffer.

An :class:`EventHub` owns one :class:`EventStream` and, while it has subscribers, one reader
task that pulls events from the stream and hands each to every subscriber's bounded anyio memory
stream. The first subscriber starts the reader; when the last one leaves, the reader is cancelled
and the connection closed; leaving the hub's ``async with`` ends both. The reader never fails
silently: an error that ends the stream is raised to every subscriber.

Each subscriber chooses what happens when its buffer is full:

- ``"wait"``: the reader waits for room (backpressure to the socket, and so to everyone).
  dockerd drops an event for a subscriber that has not taken it within 100 ms once that
  subscriber's queue (1024 events) is full, and it says nothing. The shared stream notices when a
  stall left its connection saturated (see ``_streams``) and every subscriber gets the gap notice
  (``EventsLost``, or an ``EventGap`` with ``until_nano=None``): events after ``since_nano`` may
  be missing, re-list. The loss cannot be recovered from the daemon's replay, which holds 256
  events, fewer than its queue.
- ``"drop_oldest"``: the oldest buffered event is dropped to make room, and counted.
- ``"disconnect"``: the subscriber is cut off; it gets :class:`SubscriberTooSlow` after the events
  already in its buffer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Literal

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._exceptions import (
    DockerError,
    EventsLost,
    InvalidArgument,
    StreamClosed,
    SubscriberTooSlow,
)
from ._resource import Resource
from ._streams import EventStream
from .models.events import EventGap, EventMessage

__all__ = ["EventHub", "SlowPolicy", "Subscription", "check_buffer"]

SlowPolicy = Literal["wait", "drop_oldest", "disconnect"]


def check_buffer(maxsize: int, policy: str) -> None:
    """Check a buffer size and a slow-consumer policy (the hub's, and every bounded buffer
    that takes its policies).

    Raises:
        InvalidArgument: an unknown policy, or a buffer size that is not an int of at least 1.
    """
    if policy not in ("wait", "drop_oldest", "disconnect"):
        raise InvalidArgument(
            f"policy must be 'wait', 'drop_oldest' or 'disconnect', not {policy!r}"
        )
    if not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1:
        raise InvalidArgument(f"maxsize must be an int of at least 1, not {maxsize!r}")


class Subscription(Resource):
    """One consumer of an :class:`EventHub`: an async iterator and an async context manager.

    Attributes:
        policy: what happens when its buffer is full.
        dropped: events dropped for it (``"drop_oldest"``).
    """

    _resource_name = "an EventHub subscription"

    def __init__(
        self, hub: EventHub, maxsize: int, policy: SlowPolicy, on_gap: Literal["raise", "yield"]
    ) -> None:
        self._hub = hub
        self.policy = policy
        self._gap_yields = on_gap == "yield"
        self._maxsize = maxsize
        self._send: MemoryObjectSendStream[Any]
        self._receive: MemoryObjectReceiveStream[Any]
        self._oldest: MemoryObjectReceiveStream[Any] | None = None
        self._error: BaseException | None = None
        self._active = False
        self._left = False
        self.dropped = 0

    async def _enter(self) -> None:
        if self._active or self._left:
            raise StreamClosed("a subscription can be entered once")
        self._send, self._receive = anyio.create_memory_object_stream[Any](self._maxsize)
        if self.policy == "drop_oldest":
            self._oldest = self._receive.clone()
        try:
            await self._hub._join(self)
        except BaseException:
            self._close_streams()
            raise
        self._active = True

    def _release(self) -> None:
        """Leave the hub at once (the last one to leave closes the shared connection)."""
        if self._left or not self._active:
            return
        self._left = True
        self._active = False
        self._hub._leave(self)
        self._close_streams()

    def _holds(self) -> bool:
        return self._active

    async def aclose(self) -> None:
        """Leave the hub, and wait for its reader to stop if this was the last subscriber."""
        self.close()
        await self._hub._settle()

    def _close_streams(self) -> None:
        self._send.close()
        self._receive.close()
        if self._oldest is not None:
            self._oldest.close()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        if not self._active:
            raise StreamClosed("this subscription is not active; use 'async with hub.subscribe()'")
        try:
            try:
                # no await while events are buffered: anyio's receive() yields to the event loop
                # on every call, which would cost a loop iteration per event
                item = self._receive.receive_nowait()
            except anyio.WouldBlock:
                item = await self._receive.receive()
        except anyio.EndOfStream:
            if self._error is not None:
                raise self._error from None
            raise StopAsyncIteration from None
        except anyio.ClosedResourceError:
            raise StreamClosed("this subscription was closed") from None
        if type(item) is EventGap and not self._gap_yields:
            raise EventsLost(item.since_nano, item.until_nano, item.reconnects)
        return item

    @property
    def buffered(self) -> int:
        """Events waiting in this subscriber's buffer."""
        return self._receive.statistics().current_buffer_used if self._active else 0

    # -- called by the hub's reader ------------------------------------------------------

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self._send.close()


class EventHub(Resource):
    """Share one event stream among many consumers.

    Made by ``docker.events.hub(...)``::

        async with docker.events.hub(filters={"type": "container"}) as hub:
            async with hub.subscribe(maxsize=1000, policy="drop_oldest") as sub:
                async for ev in sub:
                    ...

    Args:
        open_stream: makes the event stream it owns (one per run: opened when the first
            subscriber joins, closed when the last leaves).
        stall_limit: seconds a ``"wait"`` subscriber may hold the reader up before it counts
            as a stall (``stalls``); the stream's own ``stall_limit`` decides about gaps.
    """

    def __init__(
        self,
        open_stream: Callable[[], EventStream[EventMessage | EventGap]],
        *,
        stall_limit: float = 0.1,
    ) -> None:
        self._open_stream = open_stream
        self._stream: EventStream[EventMessage | EventGap] | None = None
        self._stall_limit = stall_limit
        self._subs: list[Subscription] = []
        self._entered = False
        self._reader: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._joining = asyncio.Lock()
        #: how often a "wait" subscriber held the reader up longer than ``stall_limit``
        self.stalls = 0

    _resource_name = "an EventHub"

    async def _enter(self) -> None:
        if self._entered:
            raise StreamClosed("an EventHub can be entered once")
        self._entered = True

    def _release(self) -> None:
        for sub in list(self._subs):
            sub._fail(StreamClosed("the hub was closed"))
        self._subs.clear()
        self._stop_reader()

    def _holds(self) -> bool:
        return self._reader is not None

    async def aclose(self) -> None:
        """Close the hub: every subscriber's iteration ends with ``StreamClosed``, the shared
        connection is closed and its reader has stopped when this returns."""
        self.close()
        await self._settle()

    def subscribe(
        self,
        *,
        maxsize: int = 1024,
        policy: SlowPolicy = "wait",
        on_gap: Literal["raise", "yield"] = "raise",
    ) -> Subscription:
        """A new consumer; it receives the events read after it joins (``async with``).

        Args:
            maxsize: its buffer, in events.
            policy: ``"wait"``, ``"drop_oldest"`` or ``"disconnect"`` when the buffer is full.
            on_gap: ``"raise"`` ``EventsLost`` or ``"yield"`` an ``EventGap`` when continuity
                after a reconnect cannot be proven.

        Raises:
            InvalidArgument: an unknown policy or a buffer smaller than 1.
        """
        check_buffer(maxsize, policy)
        return Subscription(self, maxsize, policy, on_gap)

    @property
    def subscribers(self) -> int:
        """How many subscribers are joined."""
        return len(self._subs)

    @property
    def stream(self) -> EventStream[EventMessage | EventGap] | None:
        """The shared stream while subscribers are joined (for its ``stats``), else ``None``."""
        return self._stream

    async def _join(self, sub: Subscription) -> None:
        # One joiner at a time: those that arrive while the connection is opening wait for it
        # and share it (without the lock, a herd joining at once opened one connection each).
        async with self._joining:
            if not self._entered or self._closed:
                raise StreamClosed("the hub is not open; use 'async with docker.events.hub()'")
            if self._reader is None:
                stream = self._open_stream()
                try:
                    await stream.open()  # the daemon has subscribed us once this returns
                except BaseException:
                    stream.close()
                    raise
                self._stream = stream
                self._reader = asyncio.create_task(self._read(stream), name="aiodockersock-hub")
            self._subs.append(sub)

    def _leave(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
        if not self._subs:
            self._stop_reader()

    def _stop_reader(self) -> None:
        """Close the shared stream and cancel its reader (:meth:`_settle` waits for it)."""
        reader, self._reader = self._reader, None
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        if reader is not None:
            reader.cancel()
            self._stopping = reader

    async def _settle(self) -> None:
        """Wait until a reader being stopped has finished (shielded: this is cleanup, even
        when the caller is cancelled)."""
        reader, self._stopping = self._stopping, None
        if reader is not None and not reader.done():
            await asyncio.shield(asyncio.wait([reader]))

    async def _read(self, stream: EventStream[EventMessage | EventGap]) -> None:
        try:
            async for item in stream:
                stalled = False
                for sub in list(self._subs):  # a copy: subscribers may come and go meanwhile
                    try:
                        sub._send.send_nowait(item)
                        continue
                    except anyio.WouldBlock:
                        pass
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        continue
                    if await self._deliver_full(sub, item):
                        stalled = True
                if stalled:
                    self.stalls += 1  # the stream itself reports a gap if dockerd may have dropped
        except DockerError as exc:
            for sub in list(self._subs):
                sub._fail(exc)

    async def _deliver_full(self, sub: Subscription, item: Any) -> bool:
        """Deliver to a subscriber whose buffer is full; True if it stalled the reader."""
        if sub.policy == "wait":
            started = time.monotonic()
            try:
                await sub._send.send(item)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return False
            return time.monotonic() - started > self._stall_limit
        if sub.policy == "drop_oldest":
            assert sub._oldest is not None
            sub._oldest.receive_nowait()
            sub.dropped += 1
            sub._send.send_nowait(item)
            return False
        size = sub._send.statistics().max_buffer_size
        sub._fail(SubscriberTooSlow(
            f"this subscriber fell {size} events behind and was disconnected "
            "(policy 'disconnect')"
        ))
        return False
