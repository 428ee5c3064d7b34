"""The BuildKit session's gRPC server (``aiodockersock/_buildkit/_grpc.py``) against an HTTP/2
client of the ``h2`` package, as dockerd would be: what no real engine does on demand, a peer
that sends faster than a call's handler reads."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import h2.config
import h2.connection
import h2.events
import pytest

from aiodockersock._buildkit._grpc import _WINDOW, GrpcCall, GrpcServer

MESSAGE = 1024 * 1024


def message(data: bytes) -> bytes:
    return struct.pack(">BI", 0, len(data)) + data


class Peer:
    """The client end (dockerd's part): an ``h2`` connection over a socket pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.answers: dict[int, bytes] = {}
        self.ended: dict[int, asyncio.Event] = {}
        self.window_opened = asyncio.Event()
        self._task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while data := await self.reader.read(65536):
            for event in self.conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived) and event.stream_id:
                    self.answers[event.stream_id] = self.answers.get(event.stream_id, b"") + (
                        event.data or b"")
                    self.conn.acknowledge_received_data(event.flow_controlled_length or 0,
                                                        event.stream_id)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id:
                    self.ended.setdefault(event.stream_id, asyncio.Event()).set()
                elif isinstance(event, h2.events.WindowUpdated):
                    self.window_opened.set()
            await self.flush()

    async def flush(self) -> None:
        self.writer.write(self.conn.data_to_send())
        await self.writer.drain()

    async def call(self, method: str) -> int:
        stream_id = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream_id, [(":method", "POST"), (":scheme", "http"),
                                           (":path", method), (":authority", "session"),
                                           ("content-type", "application/grpc")])
        await self.flush()
        return stream_id

    def room(self, stream_id: int) -> int:
        return self.conn.local_flow_control_window(stream_id)

    async def send(self, stream_id: int, data: bytes, *, end: bool = False) -> None:
        """Send as much of ``data`` as the window allows now; return when all of it went."""
        view = memoryview(data)
        while view:
            size = min(self.room(stream_id), self.conn.max_outbound_frame_size, len(view))
            if size <= 0:
                self.window_opened.clear()
                await self.window_opened.wait()
                continue
            self.conn.send_data(stream_id, bytes(view[:size]))
            view = view[size:]
            await self.flush()
        if end:
            self.conn.end_stream(stream_id)
            await self.flush()

    async def close(self) -> None:
        self._task.cancel()
        self.writer.close()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.writer.wait_closed()


@pytest.fixture
async def served() -> AsyncIterator[tuple[Peer, asyncio.Event, list[int]]]:
    """A server whose ``/t.S/Slow`` reads nothing until the event is set, then counts the
    bytes of every message; ``/t.S/Echo`` answers each message at once."""
    release = asyncio.Event()
    taken: list[int] = []

    async def slow(call: GrpcCall) -> None:
        await release.wait()
        while (data := await call.recv()) is not None:
            taken.append(len(data))

    async def echo(call: GrpcCall) -> None:
        while (data := await call.recv()) is not None:
            await call.send(data)

    ours, theirs = socket.socketpair()
    server_side = await asyncio.open_connection(sock=ours)
    server = GrpcServer(*server_side, {"/t.S/Slow": slow, "/t.S/Echo": echo})
    serving = asyncio.ensure_future(server.serve())
    peer = Peer(*await asyncio.open_connection(sock=theirs))
    await peer.flush()
    yield peer, release, taken
    await peer.close()
    await asyncio.wait_for(serving, 5)
    server_side[1].close()
    await server_side[1].wait_closed()


async def test_a_handler_that_does_not_read_stops_the_peer_after_one_window(
    served: tuple[Peer, asyncio.Event, list[int]],
) -> None:
    peer, release, taken = served
    slow = await peer.call("/t.S/Slow")
    data = message(b"x" * MESSAGE) * 40  # 40 MiB: more than two windows
    sending = asyncio.ensure_future(peer.send(slow, data, end=True))
    # the peer runs out of window and stays out: no more than one window is ever queued
    for _ in range(200):
        await asyncio.sleep(0.01)
        if peer.room(slow) == 0:
            break
    await asyncio.sleep(0.3)
    assert peer.room(slow) == 0 and not sending.done()
    assert taken == []
    # another call on the same connection is not held up by it
    echo = await peer.call("/t.S/Echo")
    await peer.send(echo, message(b"ping"), end=True)
    await asyncio.wait_for(peer.ended.setdefault(echo, asyncio.Event()).wait(), 5)
    assert peer.answers[echo] == message(b"ping")
    # once the handler reads, the window comes back and everything arrives, in order
    release.set()
    await asyncio.wait_for(sending, 30)
    await asyncio.wait_for(peer.ended.setdefault(slow, asyncio.Event()).wait(), 30)
    assert taken == [MESSAGE] * 40
    assert _WINDOW < 40 * MESSAGE
