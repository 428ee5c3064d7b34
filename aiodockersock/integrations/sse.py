"""Docker events as Server-Sent Events (``text/event-stream``), for any web framework.

What a browser's ``EventSource`` receives, one message per Docker event::

    id: 1718000000123456789            ← the event's time_nano
    event: container                   ← the event's type (listen with addEventListener)
    data: {"Type":"container","Action":"start","Actor":{"ID":"…","Attributes":{…}},…}

- ``data`` is the event as the Engine sends it (its own JSON names, as in the Engine API docs).
- ``id`` is ``time_nano``: when the connection drops, the browser reconnects on its own with a
  ``Last-Event-ID`` header, and the stream replays what it missed from the daemon
  (``since=``). The daemon keeps only its last 256 events; if the replay no longer reaches back
  that far, an ``event: gap`` message says so (re-list what you show).
- ``event: ready`` comes first, once the daemon has subscribed the stream: list what you show
  *after* it and nothing can fall between the list and the events.
- ``event: gap`` (data: ``since_nano``, ``until_nano``, ``reconnects``): events may be missing.
- ``event: broken`` (data: ``error``, ``message``) and the response ends: the stream was lost
  (the daemon went away, the app is shutting down, or the client fell too far behind). The
  browser reconnects by itself and resumes from its ``Last-Event-ID``.
- What a browser receives is what you let through: labels and attributes often carry secrets
  (tokens, internal hostnames). Pass ``redact=`` (:data:`Redactor`; :func:`keep_attributes`
  builds one) to rewrite or drop each event before it is encoded, live and replayed alike.
- A ``: keep-alive`` comment every ``heartbeat`` seconds while nothing happens keeps proxies from
  timing the connection out, and lets the server notice a client that has gone.

The generators here own what they open: the daemon connection (or hub subscription) is closed
when the client disconnects, when the generator is closed or cancelled, and when it ends.
:class:`SharedDocker` is the one client of a web app, with one :class:`~aiodockersock.EventHub`
per set of filters so that a thousand browser tabs share one connection to the daemon.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from typing import Any, Final, Protocol

import anyio
import msgspec

from .._args import format_nanos
from .._client import Docker
from .._exceptions import DockerError, InvalidArgument, StreamClosed
from .._hub import EventHub, SlowPolicy
from .._resource import AsyncResource
from ..events import EventFilters
from ..models.events import EventGap, EventMessage

__all__ = [
    "SSE_HEADERS",
    "SSE_MEDIA_TYPE",
    "Redactor",
    "SharedDocker",
    "encode_comment",
    "encode_event",
    "event_source",
    "keep_attributes",
    "parse_last_event_id",
]

#: The ``Content-Type`` of an event stream.
SSE_MEDIA_TYPE: Final = "text/event-stream"

#: Headers an event stream response should carry: no caching, and no buffering by nginx.
SSE_HEADERS: Final[Mapping[str, str]] = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

#: A hook that sees every event before a browser does: it returns the event to send (a changed
#: copy, e.g. ``msgspec.structs.replace(event, actor=…)``) or ``None`` to leave it out. Gap
#: notices and ``ready``/``broken`` messages carry no event data and do not pass through it.
Redactor = Callable[[EventMessage], EventMessage | None]

_ENCODER = msgspec.json.Encoder()
_KEEP_ALIVE: Final = b": keep-alive\n\n"


def encode_event(item: EventMessage | EventGap) -> bytes:
    """One SSE message for a Docker event (``id``/``event``/``data``) or a gap notice.

    An event's ``event:`` is its type (``container``, ``image``…; ``message`` when it has none)
    and its ``id:`` its ``time_nano``; a gap is ``event: gap`` with no id.
    """
    if isinstance(item, EventGap):
        return _message("gap", item)
    name = item.type if item.type and item.type.isidentifier() else "message"
    head = b"" if item.time_nano is None else b"id: %d\n" % item.time_nano
    return head + _message(name, item)


def keep_attributes(*names: str) -> Redactor:
    """A :data:`Redactor` that keeps only these actor attributes and drops the rest.

    A container's attributes are its labels mixed with ``name``, ``image``, ``exitCode``…; labels
    often carry secrets, so list what the page needs rather than what it must not see::

        docker_lifespan(redact=keep_attributes("name", "image", "exitCode"))

    Args:
        *names: the attribute names to keep (exact, case-sensitive).

    Returns:
        The redactor (it never drops an event, it only trims ``Actor.Attributes``).
    """
    kept = frozenset(names)

    def redact(event: EventMessage) -> EventMessage:
        actor = event.actor
        if actor is None or not actor.attributes:
            return event
        attributes = {k: v for k, v in actor.attributes.items() if k in kept}
        return msgspec.structs.replace(
            event, actor=msgspec.structs.replace(actor, attributes=attributes)
        )

    return redact


def encode_comment(text: str = "") -> bytes:
    """An SSE comment (``: text``): ignored by ``EventSource``, it keeps a connection busy."""
    lines = text.splitlines() or [""]
    return b"".join(f": {line}\n".encode() for line in lines) + b"\n"


def _message(name: str, data: object) -> bytes:
    # msgspec escapes control characters, so the JSON is one line
    return b"event: " + name.encode() + b"\ndata: " + _ENCODER.encode(data) + b"\n\n"


def _broken(exc: DockerError) -> bytes:
    return _message("broken", {"error": type(exc).__name__, "message": str(exc)})


def _checked(last_event_id: str | int | None, heartbeat: float, retry: int | None) -> int | None:
    if not heartbeat > 0:
        raise InvalidArgument(f"heartbeat must be a positive number of seconds, not {heartbeat}")
    if retry is not None and retry < 0:
        raise InvalidArgument(f"retry must be milliseconds >= 0, not {retry}")
    if isinstance(last_event_id, int):
        return last_event_id if last_event_id > 0 else None
    return parse_last_event_id(last_event_id)


def parse_last_event_id(value: str | None) -> int | None:
    """The ``time_nano`` in a ``Last-Event-ID`` header, or ``None`` if absent or not ours."""
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 20:
        return None
    nanos = int(value)
    return nanos if nanos > 0 else None


class _Live(Protocol):
    async def __anext__(self) -> Any: ...

    async def aclose(self) -> None: ...


async def _serve(
    docker: Docker, open_live: Callable[[], Awaitable[_Live]], filters: EventFilters | None,
    last_event_id: int | None, heartbeat: float, retry: int | None, redact: Redactor | None,
) -> AsyncGenerator[bytes, None]:
    """Subscribe (``open_live``), say ``ready``, replay what a resuming client missed, then
    relay live events with heartbeats; close everything on the way out."""
    head = b"retry: %d\n\n" % retry if retry is not None else b""
    try:
        live = await open_live()
    except DockerError as exc:  # the daemon is unreachable or refused: say so, and end
        yield head + _broken(exc)
        return
    pending: asyncio.Future[Any] | None = None
    try:
        yield head + _message("ready", {"resumed": last_event_id is not None})
        high = last_event_id
        if last_event_id is not None:
            try:
                async with aclosing(_replay(docker, filters, last_event_id, redact)) as replay:
                    async for chunk, nano in replay:
                        if nano is not None:
                            high = max(high or 0, nano)
                        if chunk:
                            yield chunk
            except DockerError as exc:
                yield _broken(exc)
                return
        overlap = high  # live events up to here were in the replay (or are the client's last)
        while True:
            if pending is None:
                pending = asyncio.ensure_future(live.__anext__())
            # wait without cancelling the read on a heartbeat: a cancelled read can lose an event
            done, _ = await asyncio.wait((pending,), timeout=heartbeat)
            if not done:
                yield _KEEP_ALIVE
                continue
            finished, pending = pending, None
            try:
                item = finished.result()
            except StopAsyncIteration:
                return
            except DockerError as exc:
                yield _broken(exc)
                return
            if overlap is not None and type(item) is EventMessage:
                if item.time_nano is not None and item.time_nano <= overlap:
                    continue
                overlap = None
            if redact is not None and type(item) is EventMessage:
                item = redact(item)
                if item is None:
                    continue
            yield encode_event(item)
    finally:
        # cleanup runs even when we are being cancelled (the client went away)
        with anyio.CancelScope(shield=True):
            if pending is not None:
                pending.cancel()
                await asyncio.wait((pending,))
                if not pending.cancelled():
                    pending.exception()  # retrieved: nothing is logged for it
            await live.aclose()


async def _replay(
    docker: Docker, filters: EventFilters | None, last_nano: int, redact: Redactor | None
) -> AsyncGenerator[tuple[bytes, int | None], None]:
    """The events after ``last_nano`` up to now, from the daemon's replay buffer; a gap notice
    when the buffer no longer holds the client's last event."""
    stream = docker.events(
        since=format_nanos(last_nano),
        # until now (this machine's clock; a daemon whose clock runs ahead replays less)
        until=format_nanos(max(time.time_ns(), last_nano + 1)),
        filters=filters,
        on_gap="yield",
    )
    found = False
    async with stream:
        async for item in stream:
            if isinstance(item, EventGap):
                yield encode_event(item), None
                continue
            nano = item.time_nano or 0
            if not found:
                found = True
                if nano != last_nano:  # since= is inclusive: the client's last event comes first
                    yield encode_event(EventGap(last_nano, nano, 0)), None
            if nano <= last_nano:
                continue
            sent = item if redact is None else redact(item)
            yield (b"" if sent is None else encode_event(sent)), nano
    if not found:
        yield encode_event(EventGap(last_nano, None, 0)), None


def event_source(
    docker: Docker, *, filters: EventFilters | None = None,
    last_event_id: str | int | None = None, heartbeat: float = 15.0, retry: int | None = None,
    redact: Redactor | None = None,
) -> AsyncGenerator[bytes, None]:
    """The body of an SSE response: ``docker``'s events on a connection of their own.

    ``GET /events`` (opened on the first iteration; closed when the generator is closed or
    cancelled — when the web client goes away).

    For many clients at once prefer :meth:`SharedDocker.event_source`, which shares one
    connection. The messages are described in the module docstring.

    Args:
        docker: the client.
        filters: as for ``docker.events()``, e.g. ``{"type": "container"}``.
        last_event_id: the request's ``Last-Event-ID`` header (or its ``time_nano``): replay
            the events after it first.
        heartbeat: seconds of quiet after which a ``: keep-alive`` comment is sent.
        retry: milliseconds the browser should wait before reconnecting (``retry:``).
        redact: rewrite or leave out each event before it is sent (see :data:`Redactor`).

    Returns:
        An async generator of ``bytes``; hand it to the framework's streaming response.

    Raises:
        InvalidArgument: ``heartbeat`` or ``retry`` is out of range.
    """
    last = _checked(last_event_id, heartbeat, retry)

    async def open_live() -> _Live:
        stream = docker.events(filters=filters, on_gap="yield")
        await stream.open()
        return stream

    return _serve(docker, open_live, filters, last, heartbeat, retry, redact)


def _filters_key(filters: EventFilters | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not filters:
        return ()
    return tuple(sorted(
        (key, (value,) if isinstance(value, str) else tuple(sorted(value)))
        for key, value in filters.items()
    ))


class SharedDocker(AsyncResource):
    """One Docker client for a whole web app, and shared event hubs for its SSE routes.

    The framework helpers (``integrations.fastapi``, ``integrations.aiohttp``) make one at
    startup and close it at shutdown; use it directly elsewhere::

        async with SharedDocker() as shared:
            body = shared.event_source(filters={"type": "container"})

    Args:
        url: the daemon's address (``None``: ``DOCKER_HOST``, then the default socket).
        redact: applied to every event of every stream this app serves, before it reaches a
            browser (see :data:`Redactor`; e.g. :func:`keep_attributes`). ``None``: events are
            sent as the daemon sends them, labels included.
        **options: passed to :class:`~aiodockersock.Docker` (``api_version``, ``timeout``,
            ``tls``…).

    Attributes:
        docker: the client; every request uses this one.
        redact: the app's :data:`Redactor`, or ``None``.
    """

    _resource_name = "a SharedDocker"

    def __init__(
        self, url: str | None = None, *, redact: Redactor | None = None, **options: Any
    ) -> None:
        self.docker = Docker(url, **options)
        self.redact = redact
        self._hubs: dict[tuple[tuple[str, tuple[str, ...]], ...], EventHub] = {}
        self._closing = False

    @property
    def hubs(self) -> list[EventHub]:
        """The event hubs made so far (one per distinct ``filters``)."""
        return list(self._hubs.values())

    @property
    def subscribers(self) -> int:
        """Event streams being served right now, over all hubs."""
        return sum(hub.subscribers for hub in self._hubs.values())

    async def hub(self, filters: EventFilters | None = None) -> EventHub:
        """The hub for these filters, made on first use and closed by :meth:`close_streams`.

        It holds a daemon connection only while it has subscribers. Pass fixed filters (one
        per route), not filters taken from a request: each distinct set keeps a hub.

        Raises:
            StreamClosed: the app is shutting down.
        """
        if self._closing:
            raise StreamClosed("the app is shutting down; no new event streams")
        key = _filters_key(filters)
        hub = self._hubs.get(key)
        if hub is None:
            hub = await self.docker.events.hub(filters=filters).__aenter__()
            existing = self._hubs.setdefault(key, hub)
            if existing is not hub:
                await hub.aclose()
                hub = existing
        return hub

    def event_source(
        self, *, filters: EventFilters | None = None, last_event_id: str | int | None = None,
        heartbeat: float = 15.0, retry: int | None = None, maxsize: int = 1024,
        policy: SlowPolicy = "disconnect",
    ) -> AsyncGenerator[bytes, None]:
        """The body of an SSE response, fed by this app's shared hub for ``filters``.

        ``GET /events`` (one connection per distinct ``filters``, whatever the number of
        clients; closed when the last client leaves).

        Args:
            filters: as for ``docker.events()``; fixed per route (see :meth:`hub`).
            last_event_id: the request's ``Last-Event-ID`` header: replay what the client
                missed first (``GET /events?since=…&until=now``).
            heartbeat: seconds of quiet after which a ``: keep-alive`` comment is sent.
            retry: milliseconds the browser should wait before reconnecting (``retry:``).
            maxsize: events buffered for this client.
            policy: when its buffer is full: ``"disconnect"`` (default: the response ends with
                ``event: broken`` and the browser reconnects and resumes from the daemon's
                replay), ``"drop_oldest"`` or ``"wait"`` (holds up every client of the hub).

        Returns:
            An async generator of ``bytes``; nothing is opened until it is first iterated.

        Raises:
            InvalidArgument: ``heartbeat`` or ``retry`` is out of range.
        """
        last = _checked(last_event_id, heartbeat, retry)

        async def open_live() -> _Live:
            hub = await self.hub(filters)
            return await hub.subscribe(maxsize=maxsize, policy=policy, on_gap="yield").__aenter__()

        return _serve(self.docker, open_live, filters, last, heartbeat, retry, self.redact)

    async def close_streams(self) -> None:
        """End every event stream being served (each gets ``event: broken``) and refuse new
        ones: for a server's shutdown, before it waits for open responses to finish."""
        self._closing = True
        hubs = list(self._hubs.values())
        self._hubs.clear()
        for hub in hubs:
            await hub.aclose()

    async def aclose(self) -> None:
        """Close the event streams and the client. Safe to call more than once."""
        self._closed = True
        try:
            await self.close_streams()
        finally:
            await self.docker.aclose()

    def __repr__(self) -> str:
        return f"<SharedDocker {self.docker!r} hubs={len(self._hubs)}>"

