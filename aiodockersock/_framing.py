"""Byte-level decoders with no I/O: NDJSON line splitting and the multiplexed stream format.

Both are fed whatever chunks arrive from the socket, in any size, and hand back complete units.
They are tested with plain bytes split at every offset.
"""

from __future__ import annotations

import struct
from typing import Final

from ._exceptions import DecodeError

__all__ = [
    "STDERR",
    "STDIN",
    "STDOUT",
    "STREAM_NAMES",
    "FrameDecoder",
    "LineSplitter",
    "LineTooLong",
]

STDIN: Final = 0
STDOUT: Final = 1
STDERR: Final = 2
STREAM_NAMES: Final = ("stdin", "stdout", "stderr")

_HEADER = struct.Struct(">BxxxL")
_HEADER_SIZE: Final = 8


class LineTooLong(DecodeError):
    """A single NDJSON line grew past the splitter's cap without a newline."""


class LineSplitter:
    """Split a byte stream into ``\\n``-terminated lines, carrying the unfinished tail.

    Lines are returned without their newline; empty lines (keep-alive newlines) are dropped.

    Args:
        max_line: the longest line (in bytes) held before :class:`LineTooLong` is raised.
    """

    __slots__ = ("_max_line", "_tail")

    def __init__(self, max_line: int = 64 * 1024 * 1024) -> None:
        self._tail = b""
        self._max_line = max_line

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line held back, waiting for its newline."""
        return len(self._tail)

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add a chunk; return the lines it completes, in order."""
        if self._tail:
            chunk = self._tail + chunk
        end = chunk.rfind(b"\n")
        if end < 0:
            self._tail = chunk
            self._check_tail()
            return []
        self._tail = chunk[end + 1 :]
        self._check_tail()
        return [line for line in chunk[:end].split(b"\n") if line and line != b"\r"]

    def _check_tail(self) -> None:
        if len(self._tail) > self._max_line:
            data, self._tail = self._tail, b""
            raise LineTooLong(
                f"a line is longer than {self._max_line} bytes with no newline yet; "
                "raise max_line if such lines are expected",
                data=data,
            )


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
