"""Streamed bodies (logs, stats, progress, tarballs) against a fake daemon, for the faults a
real engine will not produce on demand: frames split at every byte, a connection dropped
mid-frame, a body that ends inside a frame, an error line inside a progress stream."""

from __future__ import annotations

import struct
import tracemalloc

import msgspec
import pytest

from aiodockersock import (
    DecodeError,
    Docker,
    ProgressError,
    ProgressStream,
    StreamBroken,
)
from aiodockersock.models import ProgressMessage

from .fake_daemon import Canned, FakeDaemon

MUX = "application/vnd.docker.multiplexed-stream"


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


BODY = (
    frame(1, b"hello ")
    + frame(2, b"warn\n")
    + frame(1, "wörld\nsecond caf".encode() + b"\xc3")
    + frame(1, b"\xa9\r\nno newline at the end")
)


async def test_log_lines_survive_a_split_at_every_byte(fake: FakeDaemon) -> None:
    expected = [
        ("stderr", "warn"),
        ("stdout", "hello wörld"),
        ("stdout", "second café"),
        ("stdout", "no newline at the end"),
    ]
    async with Docker(fake.host) as docker:
        for cut in range(len(BODY) + 1):
            fake.canned["/containers/c1/logs"] = Canned([BODY[:cut], BODY[cut:]], MUX)
            lines = [(x.stream, x.text) async for x in docker.containers.logs("c1").lines()]
            assert lines == expected, cut
            logs = await docker.containers.logs("c1")
            assert logs.stdout == "hello wörld\nsecond café\r\nno newline at the end".encode()
            assert logs.stderr == b"warn\n"


async def test_one_byte_chunks_give_the_same_frames(fake: FakeDaemon) -> None:
    fake.canned["/containers/c1/logs"] = Canned([BODY[i : i + 1] for i in range(len(BODY))], MUX)
    async with Docker(fake.host) as docker:
        frames = [(f.stream, f.data) async for f in docker.containers.logs("c1", follow=True)]
    assert frames == [
        ("stdout", b"hello "),
        ("stderr", b"warn\n"),
        ("stdout", "wörld\nsecond caf".encode() + b"\xc3"),
        ("stdout", b"\xa9\r\nno newline at the end"),
    ]


async def test_a_connection_dropped_mid_frame_raises_stream_broken(fake: FakeDaemon) -> None:
    # (aiohttp drops what it buffered when the connection breaks: the pause lets it be read)
    fake.canned["/containers/c1/logs"] = Canned([BODY[:20]], MUX, cut=True, pause=0.3)
    async with Docker(fake.host) as docker:
        got = []
        with pytest.raises(StreamBroken, match="logs of c1"):
            async for f in docker.containers.logs("c1", follow=True):
                got.append(f.data)
    assert got == [b"hello "]  # what arrived whole was delivered first


async def test_a_body_ending_inside_a_frame_is_a_decode_error(fake: FakeDaemon) -> None:
    fake.canned["/containers/c1/logs"] = Canned([BODY[:-3]], MUX)
    async with Docker(fake.host) as docker:
        with pytest.raises(DecodeError, match="inside a frame"):
            await docker.containers.logs("c1")


async def test_a_frame_header_announcing_4_gib_is_not_buffered(fake: FakeDaemon) -> None:
    """A hostile daemon announces a 4 GiB frame and sends 48 MiB of it: the log stream hands the
    bytes over as they come (memory stays flat) and then says the body ended inside a frame."""
    mib = b"z" * 2**20
    header = bytes([1, 0, 0, 0]) + (2**32 - 1).to_bytes(4, "big")
    fake.canned["/containers/c1/logs"] = Canned([header, *[mib] * 48], MUX)
    async with Docker(fake.host) as docker:
        received = 0
        tracemalloc.start()
        try:
            with pytest.raises(DecodeError, match="inside a frame"):
                async for f in docker.containers.logs("c1", follow=True):
                    received += len(f.data)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert received == 48 * 2**20
    assert peak < 16 * 2**20, f"{peak / 2**20:.0f} MiB held while reading"


async def test_raw_stream_before_1_42_asks_inspect_whether_it_is_a_tty(
    fake: FakeDaemon,
) -> None:
    # the fake speaks API 1.41: a raw-stream answer is ambiguous there, so the client inspects
    fake.canned["/containers/c1/logs"] = Canned(
        [b"\x01\x00\x00\x00plain tty text\r\n"], "application/vnd.docker.raw-stream"
    )
    fake.canned["/containers/c1/json"] = Canned(
        [b'{"Id": "c1", "Config": {"Tty": true}}'], "application/json"
    )
    async with Docker(fake.host) as docker:
        stream = docker.containers.logs("c1")
        logs = await stream
    assert stream.tty is True
    assert logs.tty and logs.stdout == b"\x01\x00\x00\x00plain tty text\r\n"


STATS = {
    "id": "c1",
    "name": "/web",
    "read": "2026-11-28T10:00:01.000000000Z",
    "preread": "2026-11-28T10:00:00.000000000Z",
    "cpu_stats": {
        "cpu_usage": {"total_usage": 1_200_000_000, "usage_in_usermode": 1},
        "system_cpu_usage": 11_000_000_000,
        "online_cpus": 2,
        "throttling_data": {"periods": 0},
    },
    "precpu_stats": {
        "cpu_usage": {"total_usage": 1_000_000_000},
        "system_cpu_usage": 10_000_000_000,
        "online_cpus": 2,
    },
    "memory_stats": {
        "usage": 100 * 2**20,
        "limit": 400 * 2**20,
        "stats": {"inactive_file": 20 * 2**20, "anon": 70 * 2**20},
    },
    "networks": {
        "eth0": {"rx_bytes": 1000, "tx_bytes": 10},
        "eth1": {"rx_bytes": 24, "tx_bytes": 5},
    },
    "blkio_stats": {
        "io_service_bytes_recursive": [
            {"major": 8, "minor": 0, "op": "read", "value": 4096},
            {"major": 8, "minor": 0, "op": "write", "value": 512},
            {"major": 8, "minor": 16, "op": "Read", "value": 4096},
        ]
    },
    "pids_stats": {"current": 3, "limit": 100},
    "num_procs": 0,
}


async def test_stats_helpers_compute_what_docker_stats_shows(fake: FakeDaemon) -> None:
    line = msgspec.json.encode(STATS) + b"\n"
    fake.canned["/containers/c1/stats"] = Canned([line, line[:50], line[50:]])
    async with Docker(fake.host) as docker:
        samples = [s async for s in docker.containers.stats_stream("c1")]
    assert len(samples) == 2 and samples[0] == samples[1]
    s = samples[0]
    # 0.2 s of container CPU in 1 s of system time on 2 CPUs -> 40 % (of one CPU)
    assert s.cpu_percent == pytest.approx(40.0)
    assert s.memory_usage == 80 * 2**20  # the inactive page cache is not counted
    assert s.memory_percent == pytest.approx(20.0)
    assert (s.network_rx_bytes, s.network_tx_bytes) == (1024, 15)
    assert (s.block_read_bytes, s.block_write_bytes) == (8192, 512)
    assert s.pids == 3


async def test_json_stream_names_a_malformed_line(fake: FakeDaemon) -> None:
    good = msgspec.json.encode(STATS) + b"\n"
    fake.canned["/containers/c1/stats"] = Canned([good, b'{"id": "c1", "read": \n', good])
    async with Docker(fake.host) as docker:
        stream = docker.containers.stats_stream("c1")
        got = []
        with pytest.raises(DecodeError, match='"read"'):
            async for sample in stream:
                got.append(sample)
        assert len(got) == 1
        assert stream.closed


def progress_stream(docker: Docker, path: str) -> ProgressStream[ProgressMessage, int]:
    async def opener():  # type: ignore[no-untyped-def]
        return await docker._transport.stream("POST", path)

    async def finish(messages: list[ProgressMessage]) -> int:
        return len(messages)

    return ProgressStream(opener, ProgressMessage, "pull of x:1", finish)


async def test_progress_error_line_raises_after_the_messages_before_it(
    fake: FakeDaemon,
) -> None:
    lines = [
        b'{"status":"Pulling from library/x","id":"1"}\r\n',
        b'{"status":"Downloading","progressDetail":{"current":5,"total":10},'
        b'"progress":"[=====>     ]","id":"abc"}\r\n',
        b'{"errorDetail":{"code":1,"message":"unauthorized: bad token"},'
        b'"error":"unauthorized: bad token"}\r\n',
    ]
    fake.canned["/images/create"] = Canned(lines)
    async with Docker(fake.host) as docker:
        seen = []
        with pytest.raises(ProgressError) as caught:
            async for msg in progress_stream(docker, "/images/create"):
                seen.append(msg)
        assert [m.status for m in seen] == ["Pulling from library/x", "Downloading"]
        assert seen[1].progress_detail is not None and seen[1].progress_detail.total == 10
        err = caught.value
        assert str(err) == "pull of x:1 failed: unauthorized: bad token"
        assert err.code == 1 and len(err.log) == 2
        # awaited, the same failure
        with pytest.raises(ProgressError, match="bad token"):
            await progress_stream(docker, "/images/create")
        fake.canned["/images/create"] = Canned(lines[:2])
        assert await progress_stream(docker, "/images/create") == 2


async def test_byte_stream_broken_mid_body(fake: FakeDaemon) -> None:
    fake.canned["/containers/c1/export"] = Canned([b"x" * 1000], "application/x-tar", cut=True)
    async with Docker(fake.host) as docker:
        with pytest.raises(StreamBroken):
            await docker.containers.export("c1").read()
        fake.canned["/containers/c1/export"] = Canned([b"a" * 70_000, b"b"], "application/x-tar")
        assert await docker.containers.export("c1").read() == b"a" * 70_000 + b"b"



async def test_read_is_the_one_name_and_the_old_names_warn(fake: FakeDaemon) -> None:
    fake.canned["/containers/c1/logs"] = Canned([BODY], MUX)
    fake.canned["/images/create"] = Canned([b'{"status":"Pulling","id":"1"}\r\n'])
    async with Docker(fake.host) as docker:
        logs = await docker.containers.logs("c1").read()
        assert logs.stderr == b"warn\n"
        assert await progress_stream(docker, "/images/create").read() == 1
        with pytest.warns(DeprecationWarning, match=r"LogStream.collect\(\) is deprecated.*read"):
            assert await docker.containers.logs("c1").collect() == logs
        with pytest.warns(DeprecationWarning, match=r"ProgressStream.result\(\) is deprecated"):
            assert await progress_stream(docker, "/images/create").result() == 1
