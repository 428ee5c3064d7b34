"""Streams over the transport: bytes in, framing, decoded values out.

:class:`EventStream` reads ``GET /events``: chunked NDJSON split on ``\\n`` over a carried tail
and decoded with one reused msgspec decoder into :class:`~aiodockersock.models.EventMessage`.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Mapping
from types import TracebackType

import msgspec

from ._exceptions import DecodeError, DockerError, StreamBroken, StreamClosed
from ._framing import LineSplitter
from ._transport import QueryValue, StreamResponse, Transport
from .models.events import EventMessage

__all__ = ["EventStream"]

_EVENT_DECODER = msgspec.json.Decoder(EventMessage)


class EventStream:
    """A live stream of Engine events: an async iterator and an async context manager.

    The connection opens on ``async with`` or on the first ``__anext__``; it closes on
    ``aclose()``, when the context exits, when ``until`` is reached, or when the consumer is
    cancelled. A connection lost before ``until`` raises :class:`StreamBroken`, never a silent
    end.
    """

    def __init__(
        self,
        transport: Transport,
        query: Mapping[str, QueryValue],
        *,
        max_line: int = 64 * 1024 * 1024,
    ) -> None:
        self._transport = transport
        self._query = query
        self._splitter = LineSplitter(max_line)
        self._pending: deque[EventMessage] = deque()
        self._resp: StreamResponse | None = None
        self._closed = False
        self._finite = query.get("until") is not None

    async def open(self) -> None:
        """Open the connection now (the daemon subscribes us as it answers).

        Raises:
            StreamClosed: the stream was closed already.
            APIError: the daemon refused the request (e.g. a bad filter).
            DockerConnectionError: the daemon cannot be reached.
        """
        if self._closed:
            raise StreamClosed("this event stream is closed; open a new one")
        if self._resp is None:
            self._resp = await self._transport.stream("GET", "/events", query=self._query)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> EventMessage:
        pending = self._pending
        if pending:
            return pending.popleft()
        if self._resp is None:
            await self.open()
        resp = self._resp
        if resp is None:
            raise StreamClosed("this event stream is closed; open a new one")
        while not pending:
            try:
                chunk = await resp.read_chunk()
            except DockerError as exc:
                self.close()
                raise StreamBroken(str(exc), address=self._transport.host.address) from exc
            except BaseException:
                self.close()
                raise
            if not chunk:
                self.close()
                if self._finite and not self._splitter.pending:
                    raise StopAsyncIteration
                raise StreamBroken(
                    f"the event stream from {self._transport.host.address} ended unexpectedly",
                    address=self._transport.host.address,
                )
            for line in self._splitter.feed(chunk):
                try:
                    pending.append(_EVENT_DECODER.decode(line))
                except msgspec.DecodeError as exc:
                    self.close()
                    raise DecodeError(f"malformed event line ({exc})", data=line) from None
        return pending.popleft()

    def close(self) -> None:
        """Drop the connection at once. Safe to call more than once."""
        self._closed = True
        resp, self._resp = self._resp, None
        if resp is not None:
            resp.close()

    async def aclose(self) -> None:
        """Close the stream (see :meth:`close`)."""
        self.close()

    @property
    def closed(self) -> bool:
        """Whether the stream has been closed."""
        return self._closed

    async def __aenter__(self) -> EventStream:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_resp", None) is not None:
            warnings.warn(
                "an EventStream was left open; use 'async with' or 'await stream.aclose()'",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )
            self.close()
