"""A small gRPC server on one HTTP/2 connection: the client's side of a BuildKit session.

After ``POST /session`` switched the connection to ``h2c``, dockerd (BuildKit) is the HTTP/2
and gRPC *client* on it and we serve: each call is an HTTP/2 stream whose request head names
the method (``:path`` ``/package.Service/Method``) and carries the call's metadata as headers;
messages go both ways as DATA, each prefixed by a flag byte (0: not compressed) and a 4-byte
big-endian length; the answer ends with trailers holding ``grpc-status`` (0 is OK). The HTTP/2
framing, HPACK and flow control are the ``h2`` package's (sans-I/O); this module only moves its
bytes and runs one task per call.

Memory is bounded by flow control: the bytes of a message are acknowledged to the peer (which
lets it send more) only when the call's handler has taken the message with ``recv``, so a
handler that stops reading stops the peer after one window (:data:`_WINDOW`) on its call, and
the other calls go on (the connection's own window is left wide open).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable, Iterable, Mapping

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

__all__ = ["GrpcCall", "GrpcServer", "GrpcStatus", "Handler"]

#: The most one message of a call may be (dockerd's gRPC sends at most 4 MiB).
_MAX_MESSAGE = 8 * 1024 * 1024
_READ = 64 * 1024
#: Each call's receive window: what the peer may send that its handler has not taken yet.
#: Larger than the largest message, which must fit in it whole.
_WINDOW = 16 * 1024 * 1024
#: The connection's receive window, the largest HTTP/2 allows: the calls' own windows bound it.
_CONNECTION_WINDOW = 2**31 - 1


class GrpcStatus(Exception):
    """Ends a call with a gRPC status other than OK (``code``: 5 not found, 12 unimplemented…)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class GrpcCall:
    """One call: its metadata, the messages received (``recv``), and ``send``."""

    def __init__(self, server: GrpcServer, stream_id: int, method: str,
                 metadata: dict[str, list[str]]) -> None:
        self.method = method
        self.metadata = metadata
        self._server = server
        self._id = stream_id
        self._buffer = bytearray()
        # unbounded in type only: the peer can send no more than the call's window
        self._messages: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._window = asyncio.Event()
        self._lock = asyncio.Lock()
        self._headers_sent = False
        self.task: asyncio.Task[None] | None = None

    def _received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= 5:
            flag, length = struct.unpack(">BI", self._buffer[:5])
            if length > _MAX_MESSAGE or flag:
                raise GrpcStatus(8 if flag == 0 else 12, "message too large or compressed")
            if len(self._buffer) < 5 + length:
                break
            self._messages.put_nowait(bytes(self._buffer[5:5 + length]))
            del self._buffer[:5 + length]

    def unread(self) -> int:
        """Drop what the handler has not taken, and say how many bytes of the window it was."""
        size = len(self._buffer)
        self._buffer.clear()
        while not self._messages.empty():
            message = self._messages.get_nowait()
            size += 5 + len(message) if message is not None else 0
        return size

    async def recv(self) -> bytes | None:
        """The next message, or ``None`` once the caller has sent all of its own."""
        message = await self._messages.get()
        if message is not None:
            self._server.consumed(self._id, 5 + len(message))  # the peer may send as much again
        return message

    async def request(self) -> bytes:
        """The request of a unary call: its one message.

        Raises:
            GrpcStatus: ``INVALID_ARGUMENT`` when the caller sent none.
        """
        message = await self.recv()
        if message is None:
            raise GrpcStatus(3, "no request")
        return message

    async def send(self, message: bytes) -> None:
        """Send one message (waits for the peer's flow-control window)."""
        await self.send_many((message,))

    async def send_many(self, messages: Iterable[bytes]) -> None:
        """Send messages one after the other, framed and written together (one write and
        one wait for the socket, not one per message: the same bytes on the wire)."""
        data = b"".join(part for message in messages
                        for part in (struct.pack(">BI", 0, len(message)), message))
        async with self._lock:
            if not self._headers_sent:
                self._headers_sent = True
                self._server.send_headers(self._id, [(":status", "200"),
                                                     ("content-type", "application/grpc")])
            await self._server.send_data(self._id, data, self._window)

    async def finish(self, code: int = 0, message: str = "") -> None:
        """End the call with a status (trailers)."""
        async with self._lock:
            trailers = [("grpc-status", str(code))]
            if message:
                trailers.append(("grpc-message", _percent(message)))
            if not self._headers_sent:  # trailers only: one head with the status
                self._headers_sent = True
                self._server.send_headers(
                    self._id, [(":status", "200"), ("content-type", "application/grpc"),
                               *trailers], end=True)
            else:
                self._server.send_headers(self._id, trailers, end=True)
        await self._server.flush()


Handler = Callable[[GrpcCall], Awaitable[None]]


def _percent(text: str) -> str:
    return "".join(c if 0x20 <= ord(c) < 0x7F and c != "%" else
                   "".join(f"%{b:02X}" for b in c.encode()) for c in text)


class GrpcServer:
    """Serve ``handlers`` (by method path) on an HTTP/2 connection until it closes.

    Args:
        reader, writer: the connection, past the HTTP/1.1 upgrade.
        handlers: ``{"/pkg.Service/Method": coroutine(call)}``; other methods are answered
            ``UNIMPLEMENTED``.
        on_error: told of a handler's failure (the call itself ends with status 2, UNKNOWN).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 handlers: Mapping[str, Handler],
                 on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self._reader = reader
        self._writer = writer
        self._handlers = handlers
        self._on_error = on_error
        self._calls: dict[int, GrpcCall] = {}
        self._conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))

    def send_headers(self, stream_id: int, headers: list[tuple[str, str]], *,
                     end: bool = False) -> None:
        with contextlib.suppress(h2.exceptions.StreamClosedError):
            self._conn.send_headers(stream_id, headers, end_stream=end)
        self._writer.write(self._conn.data_to_send())

    def consumed(self, stream_id: int, size: int) -> None:
        """Give back ``size`` bytes of a call's receive window (its handler took them)."""
        if size <= 0 or self._writer.is_closing():
            return
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self._conn.acknowledge_received_data(size, stream_id)
        self._writer.write(self._conn.data_to_send())

    async def send_data(self, stream_id: int, data: bytes, window: asyncio.Event) -> None:
        view = memoryview(data)
        while view:
            available = min(self._conn.local_flow_control_window(stream_id),
                            self._conn.max_outbound_frame_size, len(view))
            if available <= 0:
                window.clear()
                await window.wait()
                continue
            self._conn.send_data(stream_id, bytes(view[:available]))
            view = view[available:]
            self._writer.write(self._conn.data_to_send())
            await self._writer.drain()

    async def flush(self) -> None:
        self._writer.write(self._conn.data_to_send())
        await self._writer.drain()

    async def serve(self) -> None:
        """Run until the peer closes the connection (or this task is cancelled)."""
        self._conn.initiate_connection()
        self._conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _WINDOW})
        self._conn.increment_flow_control_window(
            _CONNECTION_WINDOW - self._conn.inbound_flow_control_window)
        await self.flush()
        try:
            while True:
                data = await self._reader.read(_READ)
                if not data:
                    return
                try:
                    events = self._conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    return
                for event in events:
                    self._event(event)
                await self.flush()
        finally:
            for call in self._calls.values():
                if call.task is not None:
                    call.task.cancel()
            tasks = [c.task for c in self._calls.values() if c.task is not None]
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    def _event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived) and event.stream_id is not None:
            metadata: dict[str, list[str]] = {}
            for name, value in event.headers or []:
                metadata.setdefault(str(name), []).append(str(value))
            method = metadata.get(":path", [""])[0]
            call = GrpcCall(self, event.stream_id, method, metadata)
            self._calls[event.stream_id] = call
            call.task = asyncio.get_running_loop().create_task(self._run(call))
        elif isinstance(event, h2.events.DataReceived) and event.stream_id is not None:
            found = self._calls.get(event.stream_id)
            data = event.data or b""
            # padding, and data no call will read, are given back at once; a call's own
            # messages when its handler takes them (GrpcCall.recv)
            kept = len(data) if found is not None else 0
            unread = (event.flow_controlled_length or 0) - kept
            if unread:
                self._conn.acknowledge_received_data(unread, event.stream_id)
            if found is not None and data:
                try:
                    found._received(data)
                except GrpcStatus:
                    self._conn.reset_stream(event.stream_id, 1)
                    self.consumed(event.stream_id, found.unread())
        elif isinstance(event, h2.events.StreamEnded) and event.stream_id is not None:
            found = self._calls.get(event.stream_id)
            if found is not None:
                found._messages.put_nowait(None)
        elif isinstance(event, h2.events.StreamReset) and event.stream_id is not None:
            found = self._calls.pop(event.stream_id, None)
            if found is not None and found.task is not None:
                found.task.cancel()
        elif isinstance(event, h2.events.WindowUpdated):
            if event.stream_id:
                found = self._calls.get(event.stream_id)
                if found is not None:
                    found._window.set()
            else:
                for call in self._calls.values():
                    call._window.set()

    async def _run(self, call: GrpcCall) -> None:
        handler = self._handlers.get(call.method)
        try:
            if handler is None:
                raise GrpcStatus(12, f"unknown method {call.method}")
            await handler(call)
            await call.finish()
        except GrpcStatus as exc:
            await call.finish(exc.code, exc.message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a handler's failure ends its call, not the session
            if self._on_error is not None:
                self._on_error(call.method, exc)
            with contextlib.suppress(Exception):
                await call.finish(2, f"{type(exc).__name__}: {exc}")
        finally:
            self._calls.pop(call._id, None)
            self.consumed(call._id, call.unread())  # what it left: the connection's window
