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

    Fed whatever chunks arrive, it carries the unfinished tail to the next chunk and decodes
    complete lines with one reused msgspec decoder straight from ``memoryview`` slices (no copy
    per line). Empty lines are skipped. A line that does not decode becomes a :class:`BadLine`
    in its place, so values before it can be delivered first.

    Args:
        decoder: the msgspec JSON decoder of the line type.
        max_line: the longest line (in bytes) held while waiting for its newline.
    """

    __slots__ = ("_decode", "_max_line", "_tail", "bad")

    def __init__(self, decoder: msgspec.json.Decoder[T], max_line: int = 64 * 1024 * 1024) -> None:
        self._decode = decoder.decode
        self._max_line = max_line
        self._tail = b""
        #: how many BadLine items the last feed() returned
        self.bad = 0

    @property
    def pending(self) -> bytes:
        """The unfinished line held back, waiting for its newline."""
        return self._tail

    def reset(self) -> None:
        """Drop the unfinished line (e.g. after the connection broke)."""
        self._tail = b""

    def feed(self, chunk: bytes) -> list[T | BadLine]:
        """Add a chunk; return the values of the lines it completes, in order."""
        self.bad = 0
        if self._tail:
            chunk = self._tail + chunk
            self._tail = b""
        end = chunk.rfind(b"\n")
        if end < 0:
            return self._hold(chunk, [])
        decode = self._decode
        out: list[T | BadLine] = []
        last = len(chunk) - 1
        if chunk.find(b"\n") == end:
            # a single line: the common case, as dockerd flushes each event on its own
            if end > self._max_line:
                out.append(self._too_long(chunk[:end]))
            elif end:
                try:
                    out.append(decode(chunk if end == last else chunk[:end]))
                except msgspec.DecodeError as exc:
                    out.append(self._bad(chunk[:end], exc))
        else:
            view = memoryview(chunk)
            start = 0
            find = chunk.find
            while start <= end:
                stop = find(b"\n", start)
                if stop - start > self._max_line:
                    out.append(self._too_long(view[start:stop]))
                elif stop > start:
                    try:
                        out.append(decode(view[start:stop]))
                    except msgspec.DecodeError as exc:
                        out.append(self._bad(bytes(view[start:stop]), exc))
                start = stop + 1
        if end != last:
            return self._hold(chunk[end + 1 :], out)
        return out

    def _bad(self, line: bytes, exc: msgspec.DecodeError) -> BadLine:
        self.bad += 1
        return BadLine(DecodeError(f"malformed line ({exc})", data=line))

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
        if len(tail) > self._max_line:
            out.append(self._too_long(tail))
        else:
            self._tail = tail
        return out


class FrameDecoder:
    """Decode the Engine's multiplexed stdout/stderr stream into ``(stream, payload)`` frames.

    Each frame is an 8-byte header — the stream (0 stdin, 1 stdout, 2 stderr), three zero bytes,
    the payload size as a big-endian 32-bit integer — followed by the payload.
    """

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame held back."""
        return len(self._buf)

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        """Add a chunk; return the complete frames it finishes, in order.

        Raises:
            DecodeError: a header names a stream other than 0, 1 or 2 (the data is not
                multiplexed, e.g. it came from a TTY container).
        """
        buf = self._buf
        buf += chunk
        frames: list[tuple[int, bytes]] = []
        pos = 0
        size = len(buf)
        while size - pos >= _HEADER_SIZE:
            stream, length = _HEADER.unpack_from(buf, pos)
            if stream > STDERR or buf[pos + 1] or buf[pos + 2] or buf[pos + 3]:
                raise DecodeError(
                    "not a multiplexed stream frame header (is the container a TTY?)",
                    data=bytes(buf[pos : pos + 64]),
                )
            end = pos + _HEADER_SIZE + length
            if end > size:
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
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            raise DecodeError("the stream ended inside a frame", data=data)
