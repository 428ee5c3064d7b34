"""Byte-level decoders with no I/O: NDJSON line splitting and the multiplexed stream format.

Both are fed whatever chunks arrive from the socket, in any size, and hand back complete units.
They are tested with plain bytes split at every offset.
"""

from __future__ import annotations

import struct
from typing import Final, Generic, TypeVar

import msgspec

from ._exceptions import DecodeError

__all__ = [
    "DECODE_FAILURES",
    "STDERR",
    "STDIN",
    "STDOUT",
    "STREAM_NAMES",
    "BadLine",
    "FrameDecoder",
    "LineDecoder",
    "LineTooLong",
]

T = TypeVar("T")

STDIN: Final = 0
STDOUT: Final = 1
STDERR: Final = 2
STREAM_NAMES: Final = ("stdin", "stdout", "stderr")

#: What decoding untrusted JSON can raise: msgspec's errors, and RecursionError for nesting
#: deeper than the interpreter allows (``[[[[…`` a million levels, even in a field that is only
#: skipped). Catch this tuple, never ``msgspec.DecodeError`` alone.
DECODE_FAILURES: Final = (msgspec.DecodeError, RecursionError)

_HEADER = struct.Struct(">BxxxL")
_HEADER_SIZE: Final = 8


class LineTooLong(DecodeError):
    """A single NDJSON line grew past the decoder's cap without a newline."""


class BadLine:
    """A line :class:`LineDecoder` could not turn into a value, in its place in the output.

    Attributes:
        error: the exception to raise for it (``DecodeError``, or ``LineTooLong`` — after
            which the decoder is spent, as the rest of the line cannot be found).
    """

    __slots__ = ("error",)

    def __init__(self, error: DecodeError) -> None:
        self.error = error


class LineDecoder(Generic[T]):
    """Split an NDJSON byte stream on ``\\n`` and decode each complete line.

    Fed whatever chunks arrive, it holds back the unfinished last line until its newline comes
    (collecting its pieces and joining them once, so a long line costs O(its length)) and
    decodes all complete lines of a chunk in one ``Decoder.decode_lines`` call on a
    ``memoryview`` (no copy per line). Only if that fails does it go line by line, to decode
    what is good and point at what is not: a line that does not decode becomes a
    :class:`BadLine` in its place, so the values before it can be delivered first. Empty lines
    are skipped.

    Args:
        decoder: the msgspec JSON decoder of the line type.
        max_line: the longest line (in bytes) accepted.
    """

    __slots__ = ("_decode", "_decode_lines", "_held", "_max_line", "_parts", "bad")

    def __init__(self, decoder: msgspec.json.Decoder[T], max_line: int = 64 * 1024 * 1024) -> None:
        self._decode = decoder.decode
        self._decode_lines = decoder.decode_lines
        self._max_line = max_line
        self._parts: list[bytes] = []
        self._held = 0
        #: how many BadLine items the last feed() returned
        self.bad = 0

    @property
    def pending(self) -> bytes:
        """The unfinished line held back, waiting for its newline."""
        return b"".join(self._parts)

    def reset(self) -> None:
        """Drop the unfinished line (e.g. after the connection broke)."""
        self._parts = []
        self._held = 0

    def feed(self, chunk: bytes) -> list[T | BadLine]:
        """Add a chunk; return the values of the lines it completes, in order."""
        self.bad = 0
        end = chunk.rfind(b"\n")
        if end < 0:
            return self._hold(chunk, [])
        if self._parts:
            head = len(chunk)
            self._parts.append(chunk)
            chunk = b"".join(self._parts)
            end += len(chunk) - head
            self._parts = []
            self._held = 0
        out: list[T | BadLine]
        if end < self._max_line:  # no line can be too long: decode them all at once
            try:
                out = self._decode_lines(memoryview(chunk)[: end + 1])  # type: ignore[assignment]
            except DECODE_FAILURES:
                out = self._line_by_line(chunk, end)
        else:
            out = self._line_by_line(chunk, end)
        if end != len(chunk) - 1:
            return self._hold(chunk[end + 1 :], out)
        return out

    def _line_by_line(self, chunk: bytes, end: int) -> list[T | BadLine]:
        decode = self._decode
        max_line = self._max_line
        view = memoryview(chunk)
        out: list[T | BadLine] = []
        find = chunk.find
        start = 0
        while start <= end:
            stop = find(b"\n", start)
            if stop - start > max_line:
                out.append(self._too_long(view[start:stop]))
            elif stop > start and not view[start:stop].tobytes().isspace():
                try:
                    out.append(decode(view[start:stop]))
                except DECODE_FAILURES as exc:
                    out.append(self._bad(bytes(view[start:stop]), exc))
            start = stop + 1
        return out

    def _bad(self, line: bytes, exc: Exception) -> BadLine:
        self.bad += 1
        why = "nested too deeply to decode" if isinstance(exc, RecursionError) else exc
        return BadLine(DecodeError(f"malformed line ({why})", data=line))

    def _too_long(self, line: bytes | memoryview) -> BadLine:
        self.bad += 1
        return BadLine(
            LineTooLong(
                f"a line is longer than {self._max_line} bytes; raise max_line if such lines "
                "are expected",
                data=bytes(line[:1024]),
            )
        )

    def _hold(self, tail: bytes, out: list[T | BadLine]) -> list[T | BadLine]:
        self._held += len(tail)
        if self._held > self._max_line:
            first = (self._parts[0] if self._parts else tail)[:1024]
            self.reset()
            out.append(self._too_long(first))
        else:
            self._parts.append(tail)
        return out


class FrameDecoder:
    """Decode the Engine's multiplexed stdout/stderr stream into ``(stream, payload)`` frames.

    Each frame is an 8-byte header — the stream (0 stdin, 1 stdout, 2 stderr), three zero bytes,
    the payload size as a big-endian 32-bit integer — followed by the payload.

    A frame is handed over whole when it is at most ``max_frame`` bytes; a larger one (the
    header can announce up to 4 GiB) is handed over in pieces as its bytes arrive, so what is
    held back never exceeds ``max_frame`` plus one chunk, whatever a header says.

    With ``stray_newlines``, a ``\n`` byte where a header should start (no header starts with
    one) is taken as the end of the frame before it and given to that frame's stream: Podman's
    service sends each line of a replayed log that way, its newline after the frame.
    """

    __slots__ = ("_buf", "_got", "_last", "_left", "_max_frame", "_stray_newlines")

    def __init__(self, *, stray_newlines: bool = False, max_frame: int = 1024 * 1024) -> None:
        self._buf = bytearray()
        self._stray_newlines = stray_newlines
        self._max_frame = max_frame
        self._last: int | None = None
        self._left = 0  # bytes still to come of a large frame being handed over in pieces
        self._got = 0  # bytes of that frame (its header included) that came already

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame (held back, or handed over in pieces so far)."""
        return len(self._buf) + self._got

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        """Add a chunk; return the frames (or pieces of a large frame) it completes, in order.

        Raises:
            DecodeError: a header names a stream other than 0, 1 or 2 (the data is not
                multiplexed, e.g. it came from a TTY container).
        """
        buf = self._buf
        buf += chunk
        frames: list[tuple[int, bytes]] = []
        pos = 0
        size = len(buf)
        if self._left:  # the rest of a large frame
            last = self._last
            assert last is not None
            pos = min(self._left, size)
            if pos:
                frames.append((last, bytes(buf[:pos])))
            self._left -= pos
            if self._left:
                self._got += pos
                del buf[:pos]
                return frames
            self._got = 0
        while size - pos >= _HEADER_SIZE or (self._stray_newlines and pos < size):
            if self._stray_newlines and buf[pos] == 0x0A and self._last is not None:
                frames.append((self._last, b"\n"))
                pos += 1
                continue
            if size - pos < _HEADER_SIZE:
                break
            stream, length = _HEADER.unpack_from(buf, pos)
            if stream > STDERR or buf[pos + 1] or buf[pos + 2] or buf[pos + 3]:
                raise DecodeError(
                    "not a multiplexed stream frame header (is the container a TTY?)",
                    data=bytes(buf[pos : pos + 64]),
                )
            self._last = stream
            end = pos + _HEADER_SIZE + length
            if end > size:
                if length > self._max_frame:  # hand a large frame over as it arrives
                    if size > pos + _HEADER_SIZE:
                        frames.append((stream, bytes(buf[pos + _HEADER_SIZE : size])))
                    self._left = end - size
                    self._got = size - pos
                    pos = size
                break
            frames.append((stream, bytes(buf[pos + _HEADER_SIZE : end])))
            pos = end
        if pos:
            del buf[:pos]
        return frames

    def close(self) -> None:
        """Declare the end of the stream.

        Raises:
            DecodeError: the stream ended inside a frame.
        """
        if self._buf or self._left:
            data = bytes(self._buf)
            self._buf.clear()
            self._left = self._got = 0
            raise DecodeError("the stream ended inside a frame", data=data)
