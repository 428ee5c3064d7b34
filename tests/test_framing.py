"""The sans-I/O decoders, fed plain bytes split at every offset."""

from __future__ import annotations

import struct

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiodockersock import DecodeError
from aiodockersock._framing import BadLine, FrameDecoder, LineDecoder, LineTooLong


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


class Item(msgspec.Struct):
    a: int = 0
    b: str = ""


DEC = msgspec.json.Decoder(Item)
BODY = b'{"a":1}\n{"b":"\xc3\xa9t\xc3\xa9"}\n\n{"a":3,"b":"x"}\n'
ITEMS = [Item(a=1), Item(b="été"), Item(a=3, b="x")]


def values(out: list[Item | BadLine]) -> list[Item]:
    assert all(isinstance(x, Item) for x in out), out
    return out  # type: ignore[return-value]


def test_lines_split_at_every_offset() -> None:
    for cut in range(len(BODY) + 1):
        dec = LineDecoder(DEC)
        got = values(dec.feed(BODY[:cut]) + dec.feed(BODY[cut:]))
        assert got == ITEMS, cut
        assert dec.pending == b""


def test_lines_split_at_every_pair_of_offsets() -> None:
    for i in range(len(BODY) + 1):
        for j in range(i, len(BODY) + 1):
            dec = LineDecoder(DEC)
            got = values(dec.feed(BODY[:i]) + dec.feed(BODY[i:j]) + dec.feed(BODY[j:]))
            assert got == ITEMS, (i, j)


def test_lines_fed_one_byte_at_a_time() -> None:
    dec = LineDecoder(DEC)
    got = values([x for b in split_every(BODY, 1) for x in dec.feed(b)])
    assert got == ITEMS


def test_unfinished_line_is_held_until_its_newline() -> None:
    dec = LineDecoder(DEC)
    assert dec.feed(b'{"a":') == []
    assert dec.pending == b'{"a":'
    assert dec.feed(b"7}\r\n") == [Item(a=7)]
    dec.feed(b'{"a"')
    dec.reset()
    assert dec.pending == b""


def test_malformed_line_stays_in_its_place_and_names_the_bytes() -> None:
    dec = LineDecoder(DEC)
    out = dec.feed(b'{"a":1}\n{"a":oops}\n{"a":2}\n')
    assert dec.bad == 1
    assert out[0] == Item(a=1) and out[2] == Item(a=2)
    bad = out[1]
    assert isinstance(bad, BadLine) and not isinstance(bad.error, LineTooLong)
    assert bad.error.data == b'{"a":oops}'
    assert "malformed line" in str(bad.error) and "oops" in str(bad.error)
    single = dec.feed(b"not json\n")
    assert dec.bad == 1 and isinstance(single[0], BadLine)
    assert dec.feed(b'{"a":5}\n') == [Item(a=5)] and dec.bad == 0


def test_line_over_the_cap_is_reported_after_the_lines_before_it() -> None:
    dec = LineDecoder(DEC, max_line=10)
    out = dec.feed(b'{"a":1}\n0123456789X')
    assert out[0] == Item(a=1)
    assert isinstance(out[1], BadLine) and isinstance(out[1].error, LineTooLong)
    assert "longer than 10 bytes" in str(out[1].error)
    assert out[1].error.data == b"0123456789X"
    complete = LineDecoder(DEC, max_line=10).feed(b'{"a":1}\n{"b":"0123456789"}\n')
    assert complete[0] == Item(a=1)
    assert isinstance(complete[1], BadLine) and isinstance(complete[1].error, LineTooLong)


@pytest.mark.parametrize("size", [1024 * 1024, 4 * 1024 * 1024])
def test_long_lines_under_the_cap_pass(size: int) -> None:
    labels = {f"label{i}": "é" * 50 for i in range(size // 100)}
    line = msgspec.json.encode({"a": 9, "b": msgspec.json.encode(labels).decode()})
    assert len(line) > size
    dec = LineDecoder(DEC)
    got = [x for chunk in split_every(line + b"\n", 65536) for x in dec.feed(chunk)]
    assert len(got) == 1 and isinstance(got[0], Item) and got[0].a == 9


@given(st.lists(st.tuples(st.integers(-5, 5), st.text(max_size=12)), max_size=20),
       st.integers(min_value=1, max_value=17))
def test_lines_roundtrip_any_chunking(items: list[tuple[int, str]], size: int) -> None:
    expected = [Item(a=a, b=b) for a, b in items]
    data = b"".join(msgspec.json.encode(x) + b"\n" for x in expected)
    dec = LineDecoder(DEC)
    got = [out for chunk in split_every(data, size) for out in dec.feed(chunk)]
    assert got == expected


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


def test_a_huge_frame_is_handed_over_in_pieces_never_buffered_whole() -> None:
    """A header announcing 4 GiB: its payload comes out as it arrives, nothing piles up."""
    dec = FrameDecoder(max_frame=1024)
    got = dec.feed(bytes([1, 0, 0, 0]) + (2**32 - 1).to_bytes(4, "big") + b"a" * 5000)
    assert got == [(1, b"a" * 5000)]
    for _ in range(100):
        assert dec.feed(b"b" * 65536) == [(1, b"b" * 65536)]
        assert len(dec._buf) == 0  # nothing held back
    assert dec.pending == 8 + 5000 + 100 * 65536
    with pytest.raises(DecodeError, match="ended inside a frame"):
        dec.close()


def test_a_large_frame_in_pieces_then_normal_frames_at_every_offset() -> None:
    big = b"".join(bytes([i % 251]) for i in range(3000))
    data = frame(2, big) + frame(1, b"after\n") + frame(2, b"x")
    for cut in range(len(data) + 1):
        dec = FrameDecoder(max_frame=1000)
        got = dec.feed(data[:cut]) + dec.feed(data[cut:])
        dec.close()
        assert b"".join(p for s, p in got if s == 2 and p != b"x") == big, cut
        assert got[-2:] == [(1, b"after\n"), (2, b"x")], cut
        assert all(p for _, p in got), cut  # no empty pieces


def test_raw_tty_output_is_not_taken_for_frames() -> None:
    with pytest.raises(DecodeError, match="TTY"):
        FrameDecoder().feed(b"hello world, this is raw output\n")


def test_stream_ending_inside_a_frame_is_an_error() -> None:
    dec = FrameDecoder()
    assert dec.feed(frame(1, b"abcdef")[:-2]) == []
    with pytest.raises(DecodeError, match="ended inside a frame"):
        dec.close()


# Podman's replay of a container's logs: each line's newline comes after its frame.
PODMAN_REPLAY = (frame(1, b"out") + b"\n" + frame(2, b"err") + b"\n" + frame(1, b"x\n")
                 + frame(1, b"y"))


def test_stray_newlines_join_the_frame_before_them_at_every_offset() -> None:
    want = [(1, b"out"), (1, b"\n"), (2, b"err"), (2, b"\n"), (1, b"x\n"), (1, b"y")]
    for cut in range(len(PODMAN_REPLAY) + 1):
        dec = FrameDecoder(stray_newlines=True)
        got = dec.feed(PODMAN_REPLAY[:cut]) + dec.feed(PODMAN_REPLAY[cut:])
        dec.close()
        assert got == want, cut
    # only when asked for, and never before a first frame
    with pytest.raises(DecodeError, match="not a multiplexed stream frame header"):
        FrameDecoder().feed(PODMAN_REPLAY)
    with pytest.raises(DecodeError, match="not a multiplexed stream frame header"):
        FrameDecoder(stray_newlines=True).feed(b"\n" + frame(1, b"out") + b"\n" * 8)


def test_a_line_nested_a_million_levels_is_a_bad_line_not_a_recursion_error() -> None:
    deep = b'{"a":1,"b":"x","c":' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"}"
    dec = LineDecoder(DEC, 4 * 2**20)
    got = dec.feed(deep + b"\n" + msgspec.json.encode(Item(a=2, b="y")) + b"\n")
    assert isinstance(got[0], BadLine) and "nested too deeply" in str(got[0].error)
    assert got[1] == Item(a=2, b="y")  # the lines after it still decode


def test_frames_come_out_as_log_frames_whole_or_in_pieces_at_every_offset() -> None:
    """With make=LogFrame the log stream gets its values from the decoder itself: the same
    frames, named, whatever the chunking — a large frame in pieces, Podman's stray newlines."""
    from aiodockersock.models import LogFrame

    big = bytes(range(256)) * 12  # 3072 bytes: handed over in pieces with max_frame=1000
    data = frame(1, b"out\n") + frame(2, b"") + frame(2, big) + frame(0, b"in")
    for cut in range(len(data) + 1):
        dec = FrameDecoder(max_frame=1000, make=LogFrame)
        got = dec.feed(data[:cut]) + dec.feed(data[cut:])
        dec.close()
        assert all(type(f) is LogFrame for f in got), cut
        assert got[:2] == [LogFrame("stdout", b"out\n"), LogFrame("stderr", b"")], cut
        assert b"".join(f.data for f in got[2:-1]) == big, cut
        assert {f.stream for f in got[2:-1]} == {"stderr"}, cut
        assert got[-1] == LogFrame("stdin", b"in"), cut
    dec = FrameDecoder(make=LogFrame)
    got = [f for byte in split_every(data, 1) for f in dec.feed(byte)]
    assert [f.stream for f in got] == ["stdout", "stderr", "stderr", "stdin"]
    assert got[2].data == big
    replay = FrameDecoder(stray_newlines=True, make=LogFrame).feed(PODMAN_REPLAY)
    assert replay[:2] == [LogFrame("stdout", b"out"), LogFrame("stdout", b"\n")]


def test_an_unfinished_frame_is_held_in_pieces_and_joined_once() -> None:
    """A frame arriving in many small chunks is not re-copied at each one (O(its size))."""
    payload = b"x" * 10_000
    data = frame(1, payload)
    dec = FrameDecoder()
    pieces = split_every(data, 100)
    for piece in pieces[:-1]:
        assert dec.feed(piece) == []
    assert len(dec._buf) == len(pieces) - 1  # kept apart: not joined at each chunk
    assert dec.pending == len(data) - len(pieces[-1])
    assert dec.feed(pieces[-1]) == [(1, payload)]
    assert dec.pending == 0
    dec.close()
