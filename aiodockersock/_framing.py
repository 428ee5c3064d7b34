"""Byte-level decoders with no I/O: NDJSON line splitting and the multiplexed stream format.

Both are fed whatever chunks arrive from the socket, in any size, and hand back complete units.
They are tested with plain bytes split at every offset.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

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

_HEADER = struct.Struct(">LL")  # the stream with its three zero bytes, the size
#: the first word of a valid header → its stream (anything else is not a frame header)
_STREAM_WORDS: Final = {0: STDIN, 1 << 24: STDOUT, 2 << 24: STDERR}
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
    held back never exceeds ``max_frame`` plus one chunk, whatever a header says. The pieces of
    an unfinished frame are kept apart and joined once it is complete (a frame arriving in many
    small chunks costs O(its size)), and each payload is copied once, sliced from the chunk.

    With ``stray_newlines``, a ``\n`` byte where a header should start (no header starts with
    one) is taken as the end of the frame before it and given to that frame's stream: Podman's
    service sends each line of a replayed log that way, its newline after the frame.

    With ``make`` (e.g. ``LogFrame``), each frame is handed over as ``make(name, payload)``, the
    name from ``STREAM_NAMES``, instead of a ``(stream, payload)`` tuple: a log stream gets its
    values straight from the decoder.
    """

    __slots__ = ("_buf", "_got", "_held", "_last", "_left", "_make", "_max_frame", "_need",
                 "_stray_newlines", "_tags")

    def __init__(
        self,
        *,
        stray_newlines: bool = False,
        max_frame: int = 1024 * 1024,
        make: Callable[[str, bytes], Any] | None = None,
    ) -> None:
        self._buf: list[bytes] = []  # the pieces of an unfinished frame (or header)
        self._held = 0  # their size
        self._need = 0  # the size the held bytes must reach to complete that frame
        self._stray_newlines = stray_newlines
        self._max_frame = max_frame
        self._make = make
        # a header's first word → what its frames are tagged with: the stream, or its name
        self._tags: dict[int, Any] = (
            dict(_STREAM_WORDS) if make is None
            else {word: STREAM_NAMES[stream] for word, stream in _STREAM_WORDS.items()}
        )
        self._last: Any = None  # the tag of the last frame
        self._left = 0  # bytes still to come of a large frame being handed over in pieces
        self._got = 0  # bytes of that frame (its header included) that came already

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame (held back, or handed over in pieces so far)."""
        return self._held + self._got

    def _frame(self, tag: Any, data: bytes) -> Any:
        make = self._make
        return (tag, data) if make is None else make(tag, data)

    def feed(self, chunk: bytes) -> list[Any]:
        """Add a chunk; return the frames (or pieces of a large frame) it completes, in order.

        Returns:
            ``(stream, payload)`` tuples, or ``make(name, payload)`` values with ``make``.

        Raises:
            DecodeError: a header names a stream other than 0, 1 or 2 (the data is not
                multiplexed, e.g. it came from a TTY container).
        """
        frames: list[Any] = []
        if self._left:  # the rest of a large frame
            last = self._last
            assert last is not None
            take = min(self._left, len(chunk))
            if take:
                frames.append(self._frame(last, chunk[:take] if take < len(chunk) else chunk))
            self._left -= take
            if self._left:
                self._got += take
                return frames
            self._got = 0
            chunk = chunk[take:]
        if self._buf:
            self._buf.append(chunk)
            self._held += len(chunk)
            if self._held < self._need:
                return frames  # the held frame is still incomplete: join nothing yet
            buf = b"".join(self._buf)
            self._buf = []
            self._held = 0
        else:
            buf = chunk
        make = self._make
        stray = self._stray_newlines
        tags = self._tags
        unpack = _HEADER.unpack_from
        last = self._last
        append = frames.append
        pos = 0
        size = len(buf)
        need = _HEADER_SIZE
        while True:
            if size - pos < 8:
                if pos < size and stray and buf[pos] == 0x0A and last is not None:
                    append(self._frame(last, b"\n"))
                    pos += 1
                    continue
                break
            word, length = unpack(buf, pos)
            try:
                tag = tags[word]
            except KeyError:  # not a header (Podman's stray newline is never one either)
                if stray and buf[pos] == 0x0A and last is not None:
                    append(self._frame(last, b"\n"))
                    pos += 1
                    continue
                raise DecodeError(
                    "not a multiplexed stream frame header (is the container a TTY?)",
                    data=bytes(buf[pos : pos + 64]),
                ) from None
            last = tag
            start = pos + 8  # (_HEADER_SIZE: a literal, this loop runs per frame)
            end = start + length
            if end > size:
                if length > self._max_frame:  # hand a large frame over as it arrives
                    if size > start:
                        append(self._frame(tag, buf[start:size]))
                    self._left = end - size
                    self._got = size - pos
                    pos = size
                need = _HEADER_SIZE + length
                break
            if make is None:
                append((tag, buf[start:end]))
            else:
                append(make(tag, buf[start:end]))
            pos = end
        self._last = last
        if pos < size:
            rest = buf[pos:] if pos else buf
            self._buf = [rest]
            self._held = len(rest)
            self._need = need
        return frames

    def close(self) -> None:
        """Declare the end of the stream.

        Raises:
            DecodeError: the stream ended inside a frame.
        """
        if self._buf or self._left:
            data = b"".join(self._buf)
            self._buf = []
            self._held = self._need = 0
            self._left = self._got = 0
            raise DecodeError("the stream ended inside a frame", data=data)
