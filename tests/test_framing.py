"""The sans-I/O decoders, fed plain bytes split at every offset."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiodockersock import DecodeError
from aiodockersock._framing import FrameDecoder, LineSplitter, LineTooLong


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


BODY = b'{"a":1}\n{"b":"\xc3\xa9t\xc3\xa9"}\n\n{"c":[1,2]}\n'
LINES = [b'{"a":1}', b'{"b":"\xc3\xa9t\xc3\xa9"}', b'{"c":[1,2]}']


def test_lines_split_at_every_offset() -> None:
    for cut in range(len(BODY) + 1):
        splitter = LineSplitter()
        got = splitter.feed(BODY[:cut]) + splitter.feed(BODY[cut:])
        assert got == LINES, cut
        assert splitter.pending == 0


def test_lines_fed_one_byte_at_a_time() -> None:
    splitter = LineSplitter()
    got = [line for b in split_every(BODY, 1) for line in splitter.feed(b)]
    assert got == LINES


def test_unfinished_line_is_held_until_its_newline() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'{"a":') == []
    assert splitter.pending == 5
    assert splitter.feed(b"1}\r\n") == [b'{"a":1}\r']


def test_line_over_the_cap_raises_and_names_it() -> None:
    splitter = LineSplitter(max_line=10)
    assert splitter.feed(b"0123456789") == []
    with pytest.raises(LineTooLong, match="longer than 10 bytes") as info:
        splitter.feed(b"X")
    assert info.value.data == b"0123456789X"


def test_long_line_under_the_cap_passes() -> None:
    line = b"x" * (4 * 1024 * 1024)
    splitter = LineSplitter()
    got = [out for chunk in split_every(line + b"\n", 65536) for out in splitter.feed(chunk)]
    assert got == [line]


@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=20),
       st.integers(min_value=1, max_value=17))
def test_lines_roundtrip_any_chunking(lines: list[bytes], size: int) -> None:
    data = b"".join(line + b"\n" for line in lines)
    splitter = LineSplitter()
    got = [out for chunk in split_every(data, size) for out in splitter.feed(chunk)]
    assert got == [line for line in lines if line and line != b"\r"]


FRAMES = [(1, b"hello\n"), (2, b"oops\n"), (1, b""), (1, b"\x00\x01\x02" * 100)]
STREAM = b"".join(frame(s, p) for s, p in FRAMES)


def test_frames_split_at_every_offset() -> None:
    for cut in range(len(STREAM) + 1):
        dec = FrameDecoder()
        got = dec.feed(STREAM[:cut]) + dec.feed(STREAM[cut:])
        dec.close()
        assert got == FRAMES, cut


@given(st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.binary(max_size=300)), max_size=10),
       st.integers(min_value=1, max_value=23))
def test_frames_roundtrip_any_chunking(frames: list[tuple[int, bytes]], size: int) -> None:
    data = b"".join(frame(s, p) for s, p in frames)
    dec = FrameDecoder()
    got = [f for chunk in split_every(data, size) for f in dec.feed(chunk)]
    dec.close()
    assert got == frames


def test_raw_tty_output_is_not_taken_for_frames() -> None:
    with pytest.raises(DecodeError, match="TTY"):
        FrameDecoder().feed(b"hello world, this is raw output\n")


def test_stream_ending_inside_a_frame_is_an_error() -> None:
    dec = FrameDecoder()
    assert dec.feed(frame(1, b"abcdef")[:-2]) == []
    with pytest.raises(DecodeError, match="ended inside a frame"):
        dec.close()
