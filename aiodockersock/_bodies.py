"""Streamed response bodies other than events: raw bytes, NDJSON (progress, stats) and
container output (multiplexed stdout/stderr frames, or a TTY's raw stream).

Each is a resource that opens lazily — on ``async with`` or on the first read — so a call such
as ``docker.images.save("x")`` is cheap until used, and closes its connection when the body ends,
when the context exits, when the consumer stops early (``aclose()``), or when it is cancelled.
An error status raises when the stream opens; a connection lost mid-body raises
``StreamBroken`` (these bodies cannot be resumed), never a silent end.
"""

from __future__ import annotations

import binascii
import codecs
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
)
from typing import Any, Generic, TypeVar

import msgspec

from ._deprecation import deprecated_name
from ._exceptions import (
    DecodeError,
    DockerConnectionError,
    ProgressError,
    StreamBroken,
    StreamClosed,
)
from ._framing import DECODE_FAILURES, BadLine, FrameDecoder, LineDecoder
from ._podman import exit_status_code, is_podman_answer, path_stat_json, podman_path_stat
from ._streams import ResponseStream
from ._transport import StreamResponse, decoder_for
from .models.output import ContainerLogs, LogFrame, LogLine, PathStat

__all__ = ["ArchiveStream", "ByteStream", "JSONStream", "LogStream", "ProgressStream",
           "decode_path_stat"]

T = TypeVar("T")
R = TypeVar("R")

Opener = Callable[[], Awaitable[StreamResponse]]

_READ_SIZE = 256 * 1024
_LOG_KEEP = 100


class _Body(ResponseStream):
    """What the body streams share: reading the response they own, opened lazily."""

    def __init__(self, opener: Opener, what: str) -> None:
        self._opener = opener
        self._what = what
        self._resource_name = f"a {what} stream"
        self._resp: StreamResponse | None = None
        self._done = False

    async def open(self) -> None:
        """Send the request now (otherwise the first read does).

        Raises:
            StreamClosed: the stream was closed already.
            APIError: the daemon refused the request.
            DockerConnectionError: the daemon cannot be reached.
        """
        if self._closed:
            raise StreamClosed(f"the {self._what} stream is closed")
        if self._resp is None and not self._done:
            self._resp = await self._opener()

    @property
    def headers(self) -> dict[str, str]:
        """The response headers (empty before the stream opens)."""
        return dict(self._resp.headers) if self._resp is not None else {}

    async def _read(self, size: int) -> bytes:
        """The next bytes of the body; ``b""`` once it has ended (the stream is then closed)."""
        if self._resp is None:
            if self._done:
                return b""
            await self.open()
        resp = self._resp
        if resp is None:
            raise StreamClosed(f"the {self._what} stream is closed")
        try:
            chunk = await resp.read_chunk(size)
        except DockerConnectionError as exc:
            self.close()
            raise StreamBroken(f"the {self._what} stream broke: {exc}",
                               address=exc.address) from exc
        except BaseException:
            self.close()  # cancelled mid-read: the connection is in an unknown state
            raise
        if not chunk:
            self._done = True
            self._resp = None
            resp.close()
        return chunk


class ByteStream(_Body):
    """A response body as bytes: ``async for chunk in stream``, or :meth:`read` it whole.

    Used for ``images.save``, ``containers.export``, ``containers.get_archive`` … (tarballs
    that may be larger than memory: iterate, or :meth:`write_to` a file).
    """

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await self._read(_READ_SIZE):
                yield chunk
        finally:
            if not self._done:
                self.close()

    async def read(self) -> bytes:
        """The whole (rest of the) body in memory."""
        return b"".join([chunk async for chunk in self])

    async def write_to(self, file: Any) -> int:
        """Write the body to a binary file object (anything with ``write(bytes)``).

        Returns:
            The number of bytes written.
        """
        written = 0
        async for chunk in self:
            file.write(chunk)
            written += len(chunk)
        return written


_PATH_STAT_DECODER = msgspec.json.Decoder(PathStat)


def decode_path_stat(header: str | None) -> PathStat:
    """Decode the ``X-Docker-Container-Path-Stat`` header (base64 of a JSON object; Podman's
    URL-safe alphabet as well as Docker's).

    Raises:
        DecodeError: the header is missing or not what the Engine sends.
    """
    if not header:
        raise DecodeError("the daemon sent no X-Docker-Container-Path-Stat header", data=b"")
    try:
        return _PATH_STAT_DECODER.decode(path_stat_json(header))
    except (binascii.Error, ValueError, *DECODE_FAILURES):
        raise DecodeError("cannot decode the X-Docker-Container-Path-Stat header",
                          data=header.encode()) from None


class ArchiveStream(ByteStream):
    """A tar archive of a path in a container (``containers.get_archive``): the bytes as a
    :class:`ByteStream`, and :attr:`stat` — what the path is — once the stream is open."""

    def __init__(self, opener: Opener, what: str, *, path: str | None = None) -> None:
        super().__init__(opener, what)
        self._stat: PathStat | None = None
        self._path = path

    async def open(self) -> None:
        """Send the request now; :attr:`stat` is known from then on.

        Raises:
            NotFound: no such container, or no such path in it.
            DecodeError: the daemon's path header is malformed.
        """
        await super().open()
        if self._stat is None and self._resp is not None:
            headers = self._resp.headers
            try:
                self._stat = decode_path_stat(headers.get("X-Docker-Container-Path-Stat"))
            except DecodeError:
                self.close()
                raise
            if self._path is not None and is_podman_answer(headers):
                self._stat = podman_path_stat(self._stat, self._path)

    @property
    def stat(self) -> PathStat:
        """The archived path's name, size, mode, mtime and link target.

        Raises:
            StreamClosed: the stream has not been opened yet (``async with`` it first).
        """
        if self._stat is None:
            raise StreamClosed("open the archive stream first (async with, or read it)")
        return self._stat


class JSONStream(_Body, Generic[T]):
    """An NDJSON response body decoded line by line into ``T`` (stats, progress …).

    Args:
        opener: sends the request.
        type_: what each line decodes to.
        what: names the stream in messages (``"stats"``).
        max_line: the longest line accepted, in bytes.
    """

    def __init__(
        self, opener: Opener, type_: type[T], what: str, *, max_line: int = 64 * 1024 * 1024
    ) -> None:
        super().__init__(opener, what)
        self._lines: LineDecoder[T] = LineDecoder(decoder_for(type_), max_line)
        self._ready: deque[Any] = deque()

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def _items(self) -> AsyncIterator[T]:
        ready, lines = self._ready, self._lines
        try:
            while True:
                while not ready:
                    chunk = await self._read(_READ_SIZE)
                    if not chunk:
                        if not lines.pending:
                            return
                        chunk = lines.pending + b"\n"  # the body's last line, unterminated
                        lines.reset()
                    ready.extend(lines.feed(chunk))
                item = ready.popleft()
                if type(item) is BadLine:
                    self.close()
                    raise item.error
                yield self._check(item)
        finally:
            if not self._done:
                self.close()

    def _check(self, item: T) -> T:
        return item


class ProgressStream(JSONStream[T], Generic[T, R]):
    """The progress of a pull, push, build, load or import: iterate it, or await the result.

    ``async for message in stream`` yields each progress message as it comes;
    ``await stream`` (or ``await stream.read()``) reads everything and returns the
    operation's result. Either way, an ``error`` message raises :class:`ProgressError`
    after the messages before it, and the stream ends.

    Args:
        opener: sends the request.
        type_: the message type (its ``error`` and ``error_detail`` attributes are checked).
        what: names the operation in messages (``"pull of busybox:latest"``).
        finish: computes the result from all the messages once the stream has ended.
        failure: makes the exception an ``error`` message raises (``ProgressError``'s
            arguments); by default a ``ProgressError``.
    """

    def __init__(
        self,
        opener: Opener,
        type_: type[T],
        what: str,
        finish: Callable[[list[T]], Awaitable[R]],
        failure: Callable[..., ProgressError] = ProgressError,
    ) -> None:
        super().__init__(opener, type_, what)
        self._finish = finish
        self._failure = failure
        self._messages: list[T] = []
        self._recent: deque[T] = deque(maxlen=_LOG_KEEP)

    @property
    def messages(self) -> list[T]:
        """Every message received so far, in order."""
        return list(self._messages)

    def _check(self, item: T) -> T:
        self._messages.append(item)
        error = getattr(item, "error", None)
        if error is None:
            self._recent.append(item)
            return item
        detail = getattr(item, "error_detail", None)
        code = getattr(detail, "code", None)
        if code is None and isinstance(error, str):
            code = exit_status_code(error)  # Podman gives no code, only the message
        self.close()
        raise self._failure(error, operation=self._what, code=code, log=list(self._recent))

    async def read(self) -> R:
        """Read the stream to its end and return the operation's result.

        Raises:
            ProgressError: the daemon reported a failure in the stream.
            StreamBroken: the connection was lost before the end.
        """
        async for _ in self:
            pass
        return await self._finish(self._messages)

    def __await__(self) -> Generator[Any, None, R]:
        return self.read().__await__()

    async def result(self) -> R:
        """Deprecated: use :meth:`read` (or ``await stream``)."""
        deprecated_name("ProgressStream.result()", "read() or 'await stream'")
        return await self.read()


class LogStream(_Body):
    """A container's output: ``async for frame in stream`` (:class:`LogFrame`), text lines with
    :meth:`lines`, or ``await stream`` for all of it as :class:`ContainerLogs`.

    Made by ``docker.containers.logs()``. Followed (``follow=True``), it ends when the
    container stops; otherwise when the output so far has been sent. Multiplexed output is
    split into ``stdout``/``stderr`` frames as it arrives; a TTY container's output is one raw
    ``stdout`` stream (whether it is a TTY is known once the stream is open: :attr:`tty`).

    Args:
        opener: sends the request.
        what: names the stream in messages.
        probe: given the open response, tells whether the output is a TTY's raw stream.
        timestamps: the daemon was asked to put a timestamp before each line.
    """

    def __init__(
        self, opener: Opener, what: str, probe: Callable[[StreamResponse], Awaitable[bool]], *,
        timestamps: bool = False,
    ) -> None:
        super().__init__(opener, what)
        self._probe = probe
        self._timestamps = timestamps
        self._tty: bool | None = None
        self._frames = FrameDecoder(make=LogFrame)  # LogFrames straight from the decoder

    async def open(self) -> None:
        """Send the request now and find out whether the output is a TTY's.

        Raises:
            StreamClosed: the stream was closed already.
            NotFound: no such container.
            DockerConnectionError: the daemon cannot be reached.
        """
        opened = self._resp is not None
        await super().open()
        if not opened and self._resp is not None:
            try:
                self._tty = await self._probe(self._resp)
            except BaseException:
                self.close()
                raise

    @property
    def tty(self) -> bool | None:
        """Whether the output is a TTY's raw stream (``None`` until the stream is open)."""
        return self._tty

    def __aiter__(self) -> AsyncIterator[LogFrame]:
        return self._iter_frames()

    def batches(self) -> AsyncGenerator[list[LogFrame], None]:
        """The frames in batches: each item is every whole frame that one read brought, in
        order (never an empty list).

        The same frames as ``async for frame in stream``, for a consumer that handles many at
        once (a log shipper, a bulk writer): the hand-over costs once per batch instead of once
        per frame. How many frames a batch holds depends on how fast they arrive and are read.
        """
        return self._iter_batches()

    def _decode(self, chunk: bytes) -> list[LogFrame]:
        """The whole frames a chunk completes (a TTY's chunk is one ``stdout`` frame)."""
        if self._tty:
            return [LogFrame("stdout", chunk)]
        try:
            return self._frames.feed(chunk)
        except DecodeError:
            self.close()
            raise

    async def _iter_frames(self) -> AsyncIterator[LogFrame]:
        # not a loop over _iter_batches: one generator less between a followed log's every
        # frame and its reader (measured: 85.5k → 76.5k instructions a frame)
        try:
            if self._resp is None and not self._done:
                await self.open()
            decode = self._decode
            # all that is buffered, whatever its size (aiohttp bounds it): read(n)'s accounting
            # per HTTP chunk — one per frame, as dockerd writes them — is the dearer path
            while chunk := await self._read(-1):
                for frame in decode(chunk):
                    yield frame
            self._frames.close()
        finally:
            if not self._done:
                self.close()

    async def _iter_batches(self) -> AsyncGenerator[list[LogFrame], None]:
        try:
            if self._resp is None and not self._done:
                await self.open()
            decode = self._decode
            while chunk := await self._read(-1):  # (as in _iter_frames)
                if frames := decode(chunk):
                    yield frames
            self._frames.close()
        finally:
            if not self._done:
                self.close()

    def lines(self, *, encoding: str = "utf-8", errors: str = "replace") -> AsyncIterator[LogLine]:
        """The output as text lines, per stream, without their line endings.

        A line split across frames is joined, and a character split across them is decoded
        whole; a last line without a newline comes when the stream ends. With
        ``timestamps=True`` each line's timestamp is split off into ``LogLine.timestamp``.
        """

        def stamps() -> int:
            return 0 if not self._timestamps else _LINE_STAMPS if self._tty else _FRAME_STAMPS

        return text_lines(self, encoding, errors, stamps)

    async def read(self) -> ContainerLogs:
        """Read the stream to its end; all frames in order (a TTY's as one ``stdout`` frame)."""
        frames = [frame async for frame in self]
        if self._tty and len(frames) > 1:
            frames = [LogFrame("stdout", b"".join(f.data for f in frames))]
        return ContainerLogs(frames=frames, tty=bool(self._tty))

    def __await__(self) -> Generator[Any, None, ContainerLogs]:
        return self.read().__await__()

    async def collect(self) -> ContainerLogs:
        """Deprecated: use :meth:`read` (or ``await stream``)."""
        deprecated_name("LogStream.collect()", "read() or 'await stream'")
        return await self.read()


_FRAME_STAMPS = 1  # each frame starts with its timestamp (multiplexed logs)
_LINE_STAMPS = 2  # each line starts with its timestamp (a TTY's logs)


async def text_lines(
    frames: AsyncIterable[LogFrame], encoding: str, errors: str, stamps: Callable[[], int]
) -> AsyncIterator[LogLine]:
    """Text lines, per stream, from output frames (``LogStream.lines``, ``AttachStream.lines``).

    ``stamps()`` (asked per frame: a log stream knows whether it is a TTY's once open) says
    where timestamps are: none (0), at the start of every frame (``_FRAME_STAMPS``: dockerd
    sends a line longer than 16 KiB as several stamped pieces, and only the first piece's stamp
    is the line's), or at the start of every line (``_LINE_STAMPS``).
    """
    pending: dict[str, str] = {}
    line_stamps: dict[str, str | None] = {}  # the timestamp of each stream's unfinished line
    decoders: dict[str, codecs.IncrementalDecoder] = {}
    mode = 0

    def line(stream: str, text: str, stamp: str | None) -> LogLine:
        if text.endswith("\r"):
            text = text[:-1]
        if mode == _LINE_STAMPS:
            stamp, _, text = text.partition(" ")
        return LogLine(stream, text, stamp) if mode else LogLine(stream, text)

    async for frame in frames:
        stream, data, stamp = frame.stream, frame.data, None
        mode = stamps()
        if mode == _FRAME_STAMPS:
            raw, _, data = data.partition(b" ")
            stamp = raw.decode("ascii", "replace")
            if not pending.get(stream):
                line_stamps[stream] = stamp
        decoder = decoders.get(stream)
        if decoder is None:
            decoder = decoders[stream] = codecs.getincrementaldecoder(encoding)(errors)
        text = pending.get(stream, "") + decoder.decode(data)
        parts = text.split("\n")
        pending[stream] = parts.pop()
        for part in parts:
            yield line(stream, part, line_stamps.get(stream))
            line_stamps[stream] = stamp
    for stream, decoder in decoders.items():
        rest = pending.get(stream, "") + decoder.decode(b"", final=True)
        if rest:
            yield line(stream, rest, line_stamps.get(stream))
