"""The attach stream: two-way pipes to a process's stdin, stdout and stderr.

``POST /containers/{id}/attach`` and ``POST /exec/{id}/start`` answer with an HTTP head and then
turn the connection into a raw byte pipe in both directions ("hijacking"). The transport makes
that connection (:meth:`Transport.upgrade <aiodockersock._transport.Transport.upgrade>`: the same
connection factory, TLS, headers, timeouts and error mapping as every other request); this
module reads and writes it. The connection is never pooled and belongs to the stream (closing
the client does not close a stream opened before; close both, e.g. with ``async with``).
Without a TTY the Engine multiplexes stdout and stderr into 8-byte-header frames (decoded with
:class:`FrameDecoder`); with a TTY it sends the terminal's raw bytes.

A daemon that closes the connection while input it never read is still queued resets it (the
process stopped reading its stdin and exited): the output that arrived before stays readable
and the stream ends there, rather than failing with the reset.

Podman's service differs in ways the stream absorbs: it sees detach keys only one per read (they
are sent a byte at a time), ends no TTY session when stdin is half-closed (the stream ends it),
and in a replay of a container's logs (``logs=True``) it sends every line's newline after the
frame instead of inside it, and sends the streams that were not asked for (both are undone).
:mod:`aiodockersock._podman` lists every Podman difference the library absorbs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final, NamedTuple

from ._bodies import text_lines
from ._deprecation import deprecated_name
from ._exceptions import DecodeError, DockerError, InvalidArgument, StreamBroken, StreamClosed
from ._framing import STREAM_NAMES, FrameDecoder
from ._podman import DETACH_KEY_GAP, attach_failure
from ._resource import Resource
from ._transport import Upgraded, WebSocket
from .models.output import ContainerLogs, LogFrame, LogLine

__all__ = ["DEFAULT_DETACH_KEYS", "AttachStream", "AttachWebSocket", "Session", "detach_sequence"]

#: The detach sequence the Engine uses when none is configured.
DEFAULT_DETACH_KEYS: Final = "ctrl-p,ctrl-q"

_READ_SIZE: Final = 64 * 1024
#: ``ctrl-<key>`` → its byte.
_CTRL: Final = {**{chr(c): c - 96 for c in range(97, 123)},
                "@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


class Session(NamedTuple):
    """What an :class:`AttachStream` needs to know about the connection it was opened with.

    Attributes:
        conn: the upgraded connection.
        tty: whether the output is a raw TTY stream (otherwise multiplexed frames).
        stdin: whether the process's standard input is attached (writes reach it).
        detach_keys: the byte sequence that detaches from a TTY session.
        exec_id: the exec instance's id, for an exec.
        resize: resizes the session's TTY.
        podman: the daemon is Podman's Docker-compatible service.
        unwanted: names of streams not asked for, dropped if the daemon sends them anyway.
    """

    conn: Upgraded
    tty: bool
    stdin: bool
    detach_keys: bytes
    exec_id: str | None
    resize: Callable[[int, int], Awaitable[None]]
    podman: bool = False
    unwanted: frozenset[str] = frozenset()


Opener = Callable[[], Awaitable[Session]]
WebSocketOpener = Callable[[], Awaitable[WebSocket]]


def detach_sequence(keys: str | None) -> bytes:
    """Turn the Engine's detach-key notation into the bytes that trigger it.

    ``"ctrl-p,ctrl-q"`` → ``b"\\x10\\x11"``; each comma-separated key is a single ASCII
    character or ``ctrl-`` followed by a letter or one of ``@ [ \\ ] ^ _``.

    Raises:
        InvalidArgument: the notation is malformed.
    """
    out = bytearray()
    for key in (keys or DEFAULT_DETACH_KEYS).split(","):
        name = key.lower()
        if len(key) == 1 and key.isascii():
            out.append(ord(key))
        elif name.startswith("ctrl-") and name[5:] in _CTRL:
            out.append(_CTRL[name[5:]])
        else:
            raise InvalidArgument(
                f"{keys!r} is not a detach key sequence: write comma-separated keys, each a "
                "single character or ctrl-<a-z, @, [, \\, ], ^ or _> (e.g. 'ctrl-p,ctrl-q')"
            )
    return bytes(out)


class AttachStream(Resource):
    """A two-way stream to a process's standard input, output and error.

    Returned by ``docker.containers.attach()``, ``docker.execs.open()`` and
    ``docker.execs.start()``. It connects lazily — on ``async with``, :meth:`open`, or the first
    read or write — and owns its own socket (a hijacked HTTP connection)::

        async with docker.execs.open(cid, ["cat"]) as stream:
            await stream.write(b"hello\\n")
            await stream.close_stdin()            # EOF: cat exits
            async for frame in stream:            # LogFrame(stream="stdout", data=b"hello\\n")
                print(frame.stream, frame.data)

    Reading: ``async for frame in stream`` yields :class:`LogFrame` items as the bytes arrive
    (``"stdout"``/``"stderr"`` without a TTY; with a TTY every chunk is ``"stdout"``); iteration
    ends when the process's side ends (it exited, or a detach). :meth:`read` collects the
    rest. Nothing is read in the background: unread output waits in the socket, and the Engine
    (and so the process) is slowed down rather than memory filled.

    Writing: :meth:`write` sends bytes to the process's standard input (attach ``stdin``);
    :meth:`close_stdin` half-closes the connection, which the process sees as end of input
    (without a TTY; on a TTY, write ``b"\\x04"``).

    Ending: leaving ``async with`` or :meth:`aclose` drops the connection; :meth:`detach`
    leaves a TTY session the way ``docker attach`` does (with the detach keys), so the process
    goes on running. A read or write that is cancelled closes the connection, because after a
    cancellation nobody owns the session any more, and an open stdin would keep a process such
    as ``cat`` waiting forever. A stream dropped while open is closed with a
    ``ResourceWarning``.

    Two tasks may use one stream at once, one reading and one writing; two readers may not.
    """

    def __init__(self, opener: Opener, what: str) -> None:
        self._opener = opener
        self._what = self._resource_name = what
        self._open_lock = asyncio.Lock()
        self._session: Session | None = None  # once open
        self._live: Session | None = None  # while the socket is held
        self._decoder: FrameDecoder | None = None
        self._ready: deque[LogFrame] = deque()
        self._ended = False  # the daemon ended the stream
        self._lost: str | None = None  # Podman's error in place of output it lost
        self._stdin_closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect now (otherwise the first read or write does).

        Raises:
            StreamClosed: the stream was closed already.
            APIError: the daemon refused (``NotFound``: no such container or exec …).
            DockerConnectionError: the daemon cannot be reached.
        """
        if self._session is None and not self._closed and not self._ended:
            async with self._open_lock:
                if self._session is None and not self._closed:
                    session = await self._opener()
                    if self._closed:  # closed by another task while connecting
                        session.conn.writer.close()
                    else:
                        self._session = self._live = session
                        self._decoder = (
                            None if session.tty else FrameDecoder(stray_newlines=session.podman)
                        )
        if self._closed:
            raise StreamClosed(f"{self._what} is closed")

    _enter = open

    def _release(self) -> None:
        """Drop the connection at once; frames not yet read are discarded."""
        self._ready.clear()
        self._drop_socket()

    def _holds(self) -> bool:
        return self._live is not None

    async def aclose(self) -> None:
        """Close the connection (see :meth:`close`) and wait until the socket is released."""
        live = self._live
        self.close()
        if live is not None:
            with contextlib.suppress(Exception):  # the connection's own error, already handled
                await live.conn.writer.wait_closed()

    async def detach(self, *, timeout: float = 5.0) -> None:
        """Leave the session without ending the process, as ``docker attach`` does.

        On a TTY session with stdin attached this sends the detach keys (``ctrl-p,ctrl-q`` or
        those configured) and waits up to ``timeout`` seconds for the Engine to end the
        session, then closes; output not yet read is discarded. The Engine only honours
        detach keys on a TTY: without one, detaching is closing the connection. The process
        goes on running then too, but its standard input, if attached, is closed — always
        for an exec, and for a container created with ``StdinOnce`` — as after
        ``docker attach``. (Podman 4.3 closes a container's standard input whenever an attach
        session with stdin ends, ``StdinOnce`` or not.)
        """
        live = self._live
        try:
            if live is not None and live.tty and live.stdin and not self._stdin_closed:
                # RuntimeError: another task is reading; it will see the end itself
                with contextlib.suppress(OSError, asyncio.TimeoutError, RuntimeError):
                    await asyncio.wait_for(_detach(live), timeout)
        finally:
            await self.aclose()

    @property
    def closed(self) -> bool:
        """Whether the connection is closed: by :meth:`close`, :meth:`aclose`, :meth:`detach`,
        a cancellation or an error, or because the process's side ended."""
        return self._closed or self._ended

    @property
    def tty(self) -> bool | None:
        """Whether the session is a TTY (raw output); ``None`` before it is open."""
        return self._session.tty if self._session is not None else None

    @property
    def exec_id(self) -> str | None:
        """The exec instance's id for an exec session (known once open), else ``None``."""
        return self._session.exec_id if self._session is not None else None

    @property
    def headers(self) -> dict[str, str]:
        """The response head's headers (empty before the stream opens)."""
        return dict(self._session.conn.headers) if self._session is not None else {}

    def _drop_socket(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            # abort, not close: close() would first wait to send what a write left buffered,
            # for ever if the process no longer reads its stdin
            live.conn.writer.transport.abort()

    def _broken(self, why: object) -> StreamBroken:
        address = self._session.conn.address if self._session is not None else "?"
        # an exception without a message is named by its type (a bare reset says nothing)
        text = (str(why) or type(why).__name__) if isinstance(why, BaseException) else why
        return StreamBroken(f"{self._what} broke: {text}", address=address)

    # -- reading -----------------------------------------------------------------------------

    def __aiter__(self) -> AttachStream:
        return self

    async def __anext__(self) -> LogFrame:
        """The next piece of output, as soon as it arrives.

        Raises:
            StopAsyncIteration: the process's side ended (it exited, or the session detached).
            StreamBroken: the connection was lost before the end.
            StreamClosed: the stream was closed.
            DecodeError: the Engine sent bytes that are not multiplexed frames.
        """
        ready = self._ready
        while not ready:
            if self._ended:
                raise StopAsyncIteration
            if self._live is None:
                await self.open()
            chunk = await self._receive()
            if chunk:
                self._feed(chunk)
            else:
                self._end()
        return ready.popleft()

    async def read_all(self) -> ContainerLogs:
        """Deprecated: use :meth:`read`."""
        deprecated_name("AttachStream.read_all()", "read()")
        return await self.read()

    def lines(self, *, encoding: str = "utf-8", errors: str = "replace") -> AsyncIterator[LogLine]:
        """The output as text lines, per stream, without their line endings, as they come.

        A line split across frames is joined, and a character split across them decoded whole;
        a last line without a newline comes when the stream ends. On a TTY every line is
        ``"stdout"`` and keeps what the terminal sent (``\r\n`` endings lose their ``\r``).
        """
        return text_lines(self, encoding, errors, lambda: 0)

    async def read(self) -> ContainerLogs:
        """Read to the end of the stream and return everything not read yet.

        Returns:
            The frames in the order they arrived; a TTY session's output as one ``stdout``
            frame.

        Raises:
            StreamBroken: the connection was lost before the end.
        """
        frames = [frame async for frame in self]
        if self.tty:
            data = b"".join(frame.data for frame in frames)
            return ContainerLogs(frames=[LogFrame("stdout", data)] if data else [], tty=True)
        return ContainerLogs(frames=frames, tty=False)

    async def _receive(self) -> bytes:
        live = self._live
        if live is None:
            raise StreamClosed(f"{self._what} is closed")
        try:
            return await live.conn.reader.read(_READ_SIZE)
        except OSError as exc:
            self.close()
            raise self._broken(exc) from exc
        except BaseException:
            self.close()  # cancelled mid-read: nobody owns the session any more
            raise

    def _feed(self, chunk: bytes) -> None:
        decoder = self._decoder
        if decoder is None:
            self._ready.append(LogFrame("stdout", chunk))
            return
        try:
            frames = decoder.feed(chunk)
        except DecodeError:
            self.close()
            raise
        session = self._session
        unwanted = session.unwanted if session is not None else ()
        podman = session is not None and session.podman
        for s, data in frames:
            name = STREAM_NAMES[s]
            if not data or name in unwanted:
                continue
            failure = attach_failure(data) if podman and name == "stderr" else None
            if failure is not None:  # Podman's, not the process's
                lost, text = failure
                if lost and session is not None and session.stdin:
                    self._lost = text  # only ever seen to lose output while input flowed
                continue
            self._ready.append(LogFrame(name, data))

    def _end(self) -> None:
        live, self._ended = self._live, True
        reset = live.conn.reader.reset if live is not None else None
        pending = self._decoder.pending if self._decoder is not None else 0
        self._drop_socket()
        if self._lost is not None:
            raise self._broken(
                f"Podman could not read all of the process's output, which may be incomplete "
                f"({self._lost!r}); a Podman defect, seen when a process exits while its "
                "input is being written (containers/podman#11446); the process itself may "
                "have run to its end"
            )
        if reset is not None and not (live is not None and live.stdin):
            # with stdin attached a reset means input was left unread: the process is done
            raise self._broken(reset)
        if pending:
            raise self._broken(
                f"the connection closed inside a frame ({pending} bytes of it had arrived)"
            )

    # -- writing -----------------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        """Send bytes to the process's standard input and wait until the socket took them.

        On a TTY the bytes are what a keyboard would type: the detach keys in them detach,
        ``b"\\x03"`` interrupts, ``b"\\x04"`` at the start of a line is end of input.

        Raises:
            InvalidArgument: stdin is not attached to this session.
            StreamClosed: stdin was closed (:meth:`close_stdin`), or the stream was closed or
                has ended.
            StreamBroken: the connection was lost (e.g. the process has exited).
        """
        writer = (await self._writable()).conn.writer
        try:
            writer.write(data)
            await writer.drain()
        except OSError as exc:
            # Keep the read side: output already received can still be read.
            self._stdin_closed = True
            raise self._broken(exc) from exc
        except BaseException:
            self.close()  # cancelled mid-write: how much was sent is unknown
            raise

    async def close_stdin(self) -> None:
        """Half-close the connection: the process sees the end of its input; output goes on.

        That is without a TTY. A terminal has no end of input, so on a TTY session the Engine
        takes it as the end of the session instead: the output stops and the process goes on
        running (Podman's service would keep the session open, so there the stream closes its
        connection, and output not received yet is lost). To end the input of a process on a
        TTY, write ``b"\\x04"`` (Ctrl-D) at the start of a line.

        Safe to call more than once. This needs a plain socket (unix or TCP): a TLS connection
        cannot be half-closed, as asyncio's TLS transport has no ``write_eof()``. Over TLS,
        end the input some other way (on a TTY write ``b"\\x04"``) or close the stream.

        Raises:
            DockerError: the connection is TLS, so it cannot be half-closed.
            StreamClosed: the stream was closed or has ended.
        """
        if self._stdin_closed:
            return
        live = await self._writable()
        writer = live.conn.writer
        if not writer.can_write_eof():
            raise DockerError(
                f"cannot close only stdin of {self._what}: a TLS connection cannot be "
                "half-closed; on a TTY write b'\\x04' (Ctrl-D) instead, or close the stream"
            )
        self._stdin_closed = True
        if live.tty and live.podman:
            # Podman's service would keep the session open: end it as Docker does
            self._ended = True
            self._drop_socket()
            return
        try:
            writer.write_eof()
        except OSError as exc:
            raise self._broken(exc) from exc

    async def resize(self, height: int, width: int) -> None:
        """Resize the session's terminal.

        ``POST /exec/{id}/resize`` for an exec, ``POST /containers/{id}/resize`` for an attach.

        Raises:
            InvalidArgument: the session is not a TTY.
            NotFound: the exec or container is gone.
        """
        if self._session is None:
            await self.open()
        session = self._session
        if session is None:
            raise StreamClosed(f"{self._what} is closed")
        if not session.tty:
            raise InvalidArgument(f"{self._what} has no TTY to resize")
        await session.resize(height, width)

    async def _writable(self) -> Session:
        if self._stdin_closed:
            raise StreamClosed(f"stdin of {self._what} is closed")
        if self._live is None and not self._ended:
            await self.open()
        live = self._live
        if live is None:
            raise StreamClosed(f"{self._what} has ended")
        if not live.stdin:
            raise InvalidArgument(f"stdin is not attached to {self._what}; ask for stdin=True")
        return live


async def _detach(session: Session) -> None:
    """Send the detach keys, then read and drop the output until the Engine ends the session."""
    writer = session.conn.writer
    if session.podman:
        for i, key in enumerate(session.detach_keys):
            if i:
                await asyncio.sleep(DETACH_KEY_GAP)
            writer.write(bytes([key]))
            await writer.drain()
    else:
        writer.write(session.detach_keys)
    await writer.drain()
    while await session.conn.reader.read(_READ_SIZE):
        pass


class AttachWebSocket(Resource):
    """A container's standard streams over a WebSocket (``docker.containers.attach_websocket``).

    The same session as :class:`AttachStream`, in whole messages instead of a byte pipe, for
    code that already speaks WebSocket (a browser terminal behind a proxy, say). It connects
    on ``async with``, :meth:`open`, or the first send or receive::

        async with docker.containers.attach_websocket(cid) as ws:
            await ws.send("hello\n")              # to the container's stdin
            print(await ws.receive())              # b"hello\n" from its stdout

    Output comes as ``bytes`` (dockerd sends binary frames; stdout and stderr are not told
    apart, and a TTY's output is as the terminal wrote it); :meth:`send` takes ``bytes`` or
    ``str`` (sent as a text frame). ``async for message in ws`` yields messages until the
    daemon closes the WebSocket (the container's output ended).

    Leaving ``async with`` or :meth:`aclose` closes the WebSocket cleanly (a close frame, the
    daemon's answer awaited); the container goes on running, as after ``docker attach``
    and a detach, but its stdin is closed if it was created with ``StdinOnce``. :meth:`close`
    drops the connection at once; a WebSocket dropped open warns.
    """

    def __init__(self, opener: WebSocketOpener, what: str) -> None:
        self._opener = opener
        self._what = self._resource_name = what
        self._open_lock = asyncio.Lock()
        self._ws: WebSocket | None = None
        self._held = False  # the connection is open and ours to close
        self._ended = False

    async def open(self) -> None:
        """Connect now (otherwise the first send or receive does).

        Raises:
            StreamClosed: the WebSocket was closed already.
            NotFound: no such container.
            NotSupported: the engine has no WebSocket attach (Podman's service).
            DockerConnectionError: the daemon cannot be reached.
        """
        if self._ws is None and not self._closed and not self._ended:
            async with self._open_lock:
                if self._ws is None and not self._closed:
                    ws = await self._opener()
                    if self._closed:  # closed by another task while connecting
                        ws.abort()
                    else:
                        self._ws, self._held = ws, True
        if self._closed:
            raise StreamClosed(f"{self._what} is closed")

    _enter = open

    async def _live(self) -> WebSocket:
        if self._ws is None:
            await self.open()
        ws = self._ws
        if ws is None or self._closed:
            raise StreamClosed(f"{self._what} is closed")
        if self._ended:
            raise StreamClosed(f"{self._what} has ended: the daemon closed it")
        return ws

    async def send(self, data: bytes | str) -> None:
        """Send to the container's standard input: ``bytes`` as a binary message, ``str`` as
        a text message (what the container reads is the same either way).

        Raises:
            InvalidArgument: ``data`` is neither ``bytes`` nor ``str``.
            StreamClosed: the WebSocket is closed or has ended.
            StreamBroken: the connection was lost.
        """
        if not isinstance(data, (bytes, bytearray, memoryview, str)):
            raise InvalidArgument(f"send bytes or str, not {type(data).__name__}")
        ws = await self._live()
        try:
            await ws.send(data if isinstance(data, str) else bytes(data))
        except DockerError as exc:
            self.close()
            raise StreamBroken(f"{self._what} broke: {exc}", address=_address(exc)) from exc
        except BaseException:
            self.close()  # cancelled mid-send: how much was sent is unknown
            raise

    async def receive(self) -> bytes | str:
        """The next message from the container: ``bytes`` (dockerd sends binary frames), or
        ``str`` from a daemon that sends text.

        Raises:
            StreamClosed: the daemon closed the WebSocket (the container's output ended), or
                it was closed here.
            StreamBroken: the connection was lost.
        """
        ws = await self._live()
        try:
            message = await ws.receive()
        except DockerError as exc:
            self.close()
            raise StreamBroken(f"{self._what} broke: {exc}", address=_address(exc)) from exc
        except BaseException:
            self.close()  # cancelled mid-read: nobody owns the session any more
            raise
        if message is None:
            self._ended, self._held = True, False
            raise StreamClosed(f"{self._what} has ended: the daemon closed it")
        return message

    def __aiter__(self) -> AttachWebSocket:
        return self

    async def __anext__(self) -> bytes | str:
        """The next message; the iteration ends when the daemon closes the WebSocket."""
        if self._ended:
            raise StopAsyncIteration
        try:
            return await self.receive()
        except StreamClosed:
            if self._ended:
                raise StopAsyncIteration from None
            raise

    @property
    def closed(self) -> bool:
        """Whether the WebSocket is closed here or by the daemon."""
        return self._closed or self._ended

    @property
    def close_code(self) -> int | None:
        """The WebSocket close code once closed (``1000``: a normal close), else ``None``."""
        return self._ws.close_code if self._ws is not None else None

    async def aclose(self) -> None:
        """Close cleanly: a close frame, and the daemon's answer awaited (a few seconds at
        most). Safe to call more than once."""
        self._closed = True
        ws, held, self._held = self._ws, self._held, False
        if ws is not None and held and not ws.closed:
            await ws.close()
        elif ws is not None:
            ws.abort()

    def _release(self) -> None:
        self._held = False
        if self._ws is not None:
            self._ws.abort()

    def _holds(self) -> bool:
        return self._held


def _address(exc: DockerError) -> str:
    return getattr(exc, "address", "?")
