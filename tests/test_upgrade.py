"""Upgraded connections (``Transport.upgrade``) and the attach stream (``_attach``) against a tiny
fake engine, for what a real one will not do on demand: a response head split at every byte, a
connection dropped mid-frame, error bodies of every shape, a TLS connection that cannot be half-
closed, an answer that never comes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import msgspec
import pytest

from aiodockersock import (
    APIError,
    AttachStream,
    BadRequest,
    Conflict,
    DecodeError,
    Docker,
    DockerConnectionError,
    DockerError,
    DockerTimeoutError,
    NotFound,
    ServerError,
    StreamBroken,
    StreamClosed,
)
from aiodockersock._attach import detach_sequence
from aiodockersock._http1 import parse_head
from aiodockersock.models import ContainerLogs, ExecStartBody, LogFrame

MUX = b"application/vnd.docker.multiplexed-stream"
RAW = b"application/vnd.docker.raw-stream"


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def upgraded(content_type: bytes = MUX) -> bytes:
    return (b"HTTP/1.1 101 UPGRADED\r\nContent-Type: " + content_type
            + b"\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: 1.51\r\n\r\n")


class Conn:
    """One connection to the fake engine: the request it got, and its socket."""

    def __init__(self, head: bytes, body: bytes, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.head = head
        self.body = body
        self.reader = reader
        self.writer = writer
        self.request_line = head.split(b"\r\n")[0].decode()
        self.headers = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (line.decode().partition(":") for line in head.split(b"\r\n")[1:])
            if k
        )

    @property
    def target(self) -> tuple[str, dict[str, str]]:
        url = urlsplit(self.request_line.split(" ")[1])
        return url.path, dict(parse_qsl(url.query))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_until_eof(self) -> bytes:
        return await self.reader.read()


Scenario = Callable[[Conn], Awaitable[None]]

ENGINE = b"Api-Version: 1.51\r\n"
PODMAN = ENGINE + b"Libpod-Api-Version: 4.3.1\r\n"


class FakeEngine:
    """Answers hijack requests with a scenario; ``GET …/json`` with a fixed JSON document."""

    def __init__(self) -> None:
        self.scenario: Scenario | None = None
        self.inspect_doc = b'{"Config": {"Tty": false}}'
        self.get_headers = ENGINE  # headers of GET answers (PODMAN: as Podman's service)
        self.conns: list[Conn] = []
        self.closed = asyncio.Event()  # the client closed a hijacked connection
        self._tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.AbstractServer | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, OSError):
                    return
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                conn = Conn(head, await reader.readexactly(length), reader, writer)
                self.conns.append(conn)
                if conn.request_line.startswith("GET "):
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 + self.get_headers
                                 + b"Content-Length: %d\r\n\r\n" % len(self.inspect_doc)
                                 + self.inspect_doc)
                    await writer.drain()
                    continue
                assert self.scenario is not None
                await self.scenario(conn)
                return
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.server is not None:
            await self.server.wait_closed()

    @property
    def hijacks(self) -> list[Conn]:
        return [c for c in self.conns if c.request_line.startswith("POST ")]


@pytest.fixture
async def fake_engine(tmp_path: Path) -> AsyncIterator[tuple[FakeEngine, str]]:
    fake = FakeEngine()
    path = tmp_path / "engine.sock"
    fake.server = await asyncio.start_unix_server(fake.handle, str(path))
    yield fake, f"unix://{path}"
    await fake.stop()


@pytest.fixture
async def client(fake_engine: tuple[FakeEngine, str]) -> AsyncIterator[Docker]:
    async with Docker(fake_engine[1], api_version="1.51", timeout=5) as docker:
        yield docker


@pytest.fixture
def fake(fake_engine: tuple[FakeEngine, str]) -> FakeEngine:
    return fake_engine[0]


async def serve_then_close(conn: Conn, data: bytes) -> None:
    await conn.send(data)


# ---------------------------------------------------------------------------------------------
# The request, and the response head
# ---------------------------------------------------------------------------------------------


async def test_attach_request_is_an_http_upgrade(client: Docker, fake: FakeEngine) -> None:
    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded() + frame(1, b"hi\n"))

    fake.scenario = scenario
    stream = client.containers.attach("/web", stdin=True, detach_keys="ctrl-a,x")
    assert fake.conns == []  # lazy: nothing is sent before the stream is used
    async with stream:
        assert [f async for f in stream] == [LogFrame("stdout", b"hi\n")]
        assert stream.headers["Api-Version"] == "1.51"
    (conn,) = fake.hijacks
    # with a pinned version, nothing told yet which engine it is: one ping says
    assert [c.request_line for c in fake.conns if c is not conn] == ["GET /_ping HTTP/1.1"]
    assert conn.request_line.startswith("POST ") and conn.request_line.endswith(" HTTP/1.1")
    path, query = conn.target
    assert path == "/v1.51/containers/web/attach"
    assert query == {"stdin": "1", "stdout": "1", "stderr": "1", "stream": "1", "logs": "0",
                     "detachKeys": "ctrl-a,x"}
    assert conn.headers["host"] == "localhost"
    assert conn.headers["connection"] == "Upgrade"
    assert conn.headers["upgrade"] == "tcp"
    assert conn.headers["content-length"] == "0"
    assert "content-type" not in conn.headers and conn.body == b""


async def test_exec_start_body_is_json(client: Docker, fake: FakeEngine) -> None:
    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded(RAW) + b"raw bytes")

    fake.scenario = scenario
    conn = await client._transport.upgrade(
        "POST", "/exec/abc/start", body=ExecStartBody(detach=False, tty=True, console_size=[24, 80])
    )
    assert conn.status == 101 and conn.headers["Content-Type"] == RAW.decode()
    assert await conn.reader.read() == b"raw bytes"
    conn.writer.close()
    (request,) = fake.conns
    assert request.target == ("/v1.51/exec/abc/start", {})
    assert request.headers["content-type"] == "application/json"
    assert int(request.headers["content-length"]) == len(request.body)
    assert msgspec.json.decode(request.body) == {"Detach": False, "Tty": True,
                                                 "ConsoleSize": [24, 80]}


async def test_response_split_at_every_byte(client: Docker, fake: FakeEngine) -> None:
    """The head and the frames after it arrive in two pieces, split at every offset."""
    response = upgraded() + frame(1, b"hello\n") + frame(2, b"oops\n") + frame(1, b"bye")
    split = 0

    async def scenario(conn: Conn) -> None:
        await conn.send(response[:split])
        await asyncio.sleep(0.002)
        await conn.send(response[split:])

    fake.scenario = scenario
    for split in range(1, len(response)):
        async with client.containers.attach("web") as stream:
            output = await asyncio.wait_for(stream.read(), 5)
        assert output.frames == [
            LogFrame("stdout", b"hello\n"), LogFrame("stderr", b"oops\n"),
            LogFrame("stdout", b"bye"),
        ], split
        assert stream.tty is False


async def test_read_all_is_a_deprecated_alias_of_read(client: Docker, fake: FakeEngine) -> None:
    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded() + frame(1, b"out"))

    fake.scenario = scenario
    async with client.containers.attach("web") as stream:
        with pytest.warns(DeprecationWarning, match=r"AttachStream.read_all\(\) is deprecated"):
            output = await stream.read_all()
    assert output.frames == [LogFrame("stdout", b"out")]


def test_parse_head() -> None:
    status, headers = parse_head(
        b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\nX-Odd:  spaced value \r\n\r\n", "x"
    )
    assert status == 200
    assert headers == {"Content-Type": "text/plain", "X-Odd": "spaced value"}
    assert parse_head(b"HTTP/1.1 101\r\n\r\n", "x") == (101, {})
    with pytest.raises(DockerConnectionError, match=r"not an HTTP/1\.1 response"):
        parse_head(b"SSH-2.0-OpenSSH\r\n\r\n", "x")


async def test_200_with_a_raw_stream_is_accepted(client: Docker, fake: FakeEngine) -> None:
    """What dockerd answers without the upgrade headers, and older compatible daemons do."""

    async def scenario(conn: Conn) -> None:
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream"
                        b"\r\n\r\n\x1b[1mbold\x1b[0m\r\n")

    fake.scenario = scenario
    async with client.containers.attach("web") as stream:
        assert stream.tty is True  # raw from API 1.42 on means a TTY
        assert await stream.read() == ContainerLogs(
            frames=[LogFrame("stdout", b"\x1b[1mbold\x1b[0m\r\n")], tty=True
        )


async def test_api_141_asks_the_container_whether_it_has_a_tty(
    fake_engine: tuple[FakeEngine, str],
) -> None:
    """Before 1.42 the Engine says raw-stream even for multiplexed output."""
    fake, url = fake_engine

    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded(RAW) + frame(1, b"demuxed\n"))

    fake.scenario = scenario
    async with Docker(url, api_version="1.41") as docker:
        async with docker.containers.attach("web") as stream:
            assert await stream.read() == ContainerLogs(
                frames=[LogFrame("stdout", b"demuxed\n")], tty=False
            )
        assert [c.request_line.split(" ")[:2] for c in fake.conns] == [
            ["POST", "/v1.41/containers/web/attach?stdin=0&stdout=1&stderr=1&stream=1&logs=0"],
            ["GET", "/v1.41/containers/web/json"],
        ]


# ---------------------------------------------------------------------------------------------
# Error answers
# ---------------------------------------------------------------------------------------------


def _json_error(status: bytes, message: bytes) -> bytes:
    body = b'{"message":"' + message + b'"}\n'
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


ERRORS = [
    (_json_error(b"404 Not Found", b"No such exec instance: abc"), NotFound,
     "No such exec instance: abc"),
    (_json_error(b"409 Conflict", b"container is paused"), Conflict, "container is paused"),
    (_json_error(b"400 Bad Request", b"bad parameter"), BadRequest, "bad parameter"),
    (_json_error(b"500 Internal Server Error", b"boom"), ServerError, "boom"),
    # dockerd's answer to attaching a missing container: plain text ended by closing
    (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
     b"No such container: web\r\n", NotFound, "No such container: web"),
    # a proxy's chunked HTML page
    (b"HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"6\r\n<html>\r\n7\r\nfailed<\r\n0\r\n\r\n", ServerError, "<html>failed<"),
    (b"HTTP/1.1 301 Moved Permanently\r\nLocation: /v1.51/images/x\r\nContent-Length: 0\r\n\r\n",
     APIError, "redirected the request to /v1.51/images/x"),
]


@pytest.mark.parametrize(("answer", "error", "message"), ERRORS)
async def test_error_statuses_raise_the_transports_errors(
    client: Docker, fake: FakeEngine, answer: bytes, error: type[APIError], message: str
) -> None:
    async def scenario(conn: Conn) -> None:
        await conn.send(answer)
        if b"Content-Length" in answer or b"chunked" in answer:
            await conn.read_until_eof()  # keep-alive: the client must close
            fake.closed.set()

    fake.scenario = scenario
    stream = client.containers.attach("web")
    with pytest.raises(error) as info:
        await stream.open()
    assert type(info.value) is error
    assert message in info.value.message
    assert info.value.method == "POST"
    assert info.value.path == "/v1.51/containers/web/attach"
    if b"Content-Length" in answer or b"chunked" in answer:
        await asyncio.wait_for(fake.closed.wait(), 5)  # the client closed its socket


async def test_a_refusal_announcing_a_huge_chunk_is_read_only_up_to_the_cap(
    client: Docker, fake: FakeEngine
) -> None:
    """A chunk-size line of FFFFFFFF must not get past the 64 KiB cap on a refusal's body: the
    client stops reading there (and closes) while the peer goes on sending."""
    sent = 0

    async def scenario(conn: Conn) -> None:
        nonlocal sent
        await conn.send(b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n"
                        b"\r\nFFFFFFFF\r\n")
        with contextlib.suppress(OSError):
            for _ in range(64):  # up to 64 MiB, unless the client hangs up first
                await conn.send(b"e" * 2**20)
                sent += 1
        fake.closed.set()

    fake.scenario = scenario
    with pytest.raises(ServerError) as info:
        await asyncio.wait_for(client.containers.attach("web").open(), 10)
    assert len(info.value.message) == 64 * 1024
    await asyncio.wait_for(fake.closed.wait(), 10)
    assert sent < 64  # the client hung up rather than reading it all


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP/1.1 response: b'SSH-2.0-OpenSSH_9.2'"),
        (b"HTTP/1.1 101 UPGRADED\r\nContent-Ty", "closed the connection before the response head"),
        (b"HTTP/1.1 101 UPGRADED\r\nX-Big: " + b"x" * 300_000, "longer than"),
    ],
)
async def test_garbled_answers_are_connection_errors(
    client: Docker, fake: FakeEngine, answer: bytes, message: str
) -> None:
    fake.scenario = lambda conn: serve_then_close(conn, answer)
    with pytest.raises(DockerConnectionError, match=re.escape(message)):
        await client.containers.attach("web").open()


async def test_no_answer_times_out(fake_engine: tuple[FakeEngine, str]) -> None:
    fake, url = fake_engine
    fake.scenario = lambda conn: asyncio.sleep(30)
    async with Docker(url, api_version="1.51", timeout=0.3) as docker:
        started = time.monotonic()
        with pytest.raises(DockerTimeoutError, match="did not answer in time"):
            await docker.containers.attach("web").open()
        assert time.monotonic() - started < 3


async def test_no_daemon_is_a_connection_error(tmp_path: Path) -> None:
    async with Docker(f"unix://{tmp_path}/absent.sock", api_version="1.51") as docker:
        with pytest.raises(DockerConnectionError, match="does not exist; is dockerd running"):
            await docker.containers.attach("web").open()


async def test_a_closed_client_opens_no_stream(fake_engine: tuple[FakeEngine, str]) -> None:
    fake, url = fake_engine
    docker = Docker(url, api_version="1.51")
    await docker.aclose()
    with pytest.raises(DockerConnectionError, match="client is closed"):
        await docker.containers.attach("web").open()
    assert fake.conns == []


# ---------------------------------------------------------------------------------------------
# The stream
# ---------------------------------------------------------------------------------------------


async def test_dropped_mid_frame_is_stream_broken(client: Docker, fake: FakeEngine) -> None:
    fake.scenario = lambda conn: serve_then_close(
        conn, upgraded() + frame(1, b"complete\n") + frame(2, b"cut short")[:12]
    )
    async with client.containers.attach("web") as stream:
        assert await stream.__anext__() == LogFrame("stdout", b"complete\n")
        with pytest.raises(StreamBroken, match=r"closed inside a frame \(12 bytes"):
            await stream.__anext__()
        assert stream.closed


async def test_tty_output_where_frames_are_expected_is_a_decode_error(
    client: Docker, fake: FakeEngine
) -> None:
    fake.scenario = lambda conn: serve_then_close(conn, upgraded() + b"plain text, no frames")
    async with client.containers.attach("web") as stream:
        with pytest.raises(DecodeError, match="not a multiplexed stream frame header"):
            await stream.read()
        assert stream.closed


async def test_write_and_half_close(client: Docker, fake: FakeEngine) -> None:
    received: list[bytes] = []

    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded())
        received.append(await conn.read_until_eof())  # until the client half-closes
        await conn.send(frame(1, b"got %d bytes" % len(received[0])))

    fake.scenario = scenario
    async with client.containers.attach("web", stdin=True) as stream:
        await stream.write(b"first ")
        await stream.write(b"second" * 100_000)
        await stream.close_stdin()
        await stream.close_stdin()  # twice is fine
        with pytest.raises(StreamClosed, match="stdin"):
            await stream.write(b"late")
        output = await stream.read()
    assert received == [b"first " + b"second" * 100_000]
    assert output.frames == [LogFrame("stdout", b"got 600006 bytes")]


async def test_detach_sends_the_keys_on_a_tty(client: Docker, fake: FakeEngine) -> None:
    received = bytearray()

    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded(RAW))
        while not received.endswith(b"\x01x"):  # the Engine ends the session on the keys
            received.extend(await conn.reader.read(100))

    fake.scenario = scenario
    async with client.containers.attach("web", stdin=True, detach_keys="ctrl-a,x") as stream:
        await stream.write(b"typed")
        started = time.monotonic()
        await stream.detach()
        assert time.monotonic() - started < 2
        assert stream.closed
    assert bytes(received) == b"typed\x01x"


async def test_detach_without_a_tty_just_closes(client: Docker, fake: FakeEngine) -> None:
    received: list[bytes] = []

    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded())
        received.append(await conn.read_until_eof())

    fake.scenario = scenario
    async with client.containers.attach("web", stdin=True) as stream:
        await stream.write(b"typed")
        await stream.detach()
    for _ in range(100):
        if received:
            break
        await asyncio.sleep(0.01)
    assert received == [b"typed"]  # no detach keys: the Engine ignores them without a TTY


async def test_output_stays_readable_after_unread_input_resets(
    client: Docker, fake: FakeEngine
) -> None:
    async def scenario(conn: Conn) -> None:
        # the process wrote, read a little of its input and exited: the engine closes with
        # input still queued, which resets the connection
        await conn.send(upgraded() + frame(1, b"read 10 bytes\n"))
        await conn.reader.readexactly(10)

    fake.scenario = scenario
    async with client.containers.attach("web", stdin=True) as stream:
        writing = asyncio.ensure_future(stream.write(b"y" * 4_000_000))
        output = await asyncio.wait_for(stream.read(), 10)
        with pytest.raises(StreamBroken):
            await writing
    assert output.frames == [LogFrame("stdout", b"read 10 bytes\n")]


# -- Podman's service ---------------------------------------------------------------------------


async def test_podman_sees_detach_keys_one_per_read(client: Docker, fake: FakeEngine) -> None:
    fake.get_headers = PODMAN
    arrivals: list[tuple[bytes, float]] = []

    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded(RAW))
        while len(arrivals) < 2:
            arrivals.append((await conn.reader.read(100), time.monotonic()))

    fake.scenario = scenario
    async with client.containers.attach("web", stdin=True) as stream:
        await stream.detach()
        assert stream.closed
    assert [data for data, _ in arrivals] == [b"\x10", b"\x11"]
    assert arrivals[1][1] - arrivals[0][1] >= 0.04


async def test_podman_tty_session_ends_when_stdin_closes(
    client: Docker, fake: FakeEngine
) -> None:
    fake.get_headers = PODMAN
    ended = asyncio.Event()

    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded(RAW) + b"prompt$ ")
        await conn.read_until_eof()  # Podman would keep writing; the client closed
        ended.set()

    fake.scenario = scenario
    async with client.containers.attach("web", stdin=True) as stream:
        assert stream.tty is True
        assert (await stream.__anext__()).data == b"prompt$ "
        await stream.close_stdin()
        assert (await asyncio.wait_for(stream.read(), 5)).frames == []
        assert stream.closed
    await asyncio.wait_for(ended.wait(), 5)


async def test_podman_log_replay_newlines_and_streams(client: Docker, fake: FakeEngine) -> None:
    fake.get_headers = PODMAN

    async def scenario(conn: Conn) -> None:
        # each line's newline after its frame, and stderr although it was not asked for
        await conn.send(upgraded() + frame(1, b"out") + b"\n" + frame(2, b"err") + b"\n"
                        + frame(1, b"two") + b"\n")

    fake.scenario = scenario
    stream = client.containers.attach("web", logs=True, stream=False, stderr=False)
    async with stream:
        output = await stream.read()
    assert output.output == b"out\ntwo\n"
    assert {f.stream for f in output.frames} == {"stdout"}
    # from another engine such bytes are an error still
    fake.get_headers = ENGINE
    fake.scenario = scenario
    async with Docker(client.url, api_version="1.51") as other:
        with pytest.raises(DecodeError, match="not a multiplexed stream frame header"):
            await other.containers.attach("web", logs=True, stream=False).read()


PODMAN_WRITE_FAILED = b"Error: write unixpacket @->/proc/self/fd/15/attach: write: broken pipe\n"
PODMAN_READ_FAILED = (
    b"Error: read unixpacket @->/proc/self/fd/15/attach: read: connection reset by peer\n"
)


async def test_podman_error_about_unread_input_is_not_output(
    client: Docker, fake: FakeEngine
) -> None:
    # Podman tells of input the process did not read: not the process's stderr (Docker is quiet)
    fake.get_headers = PODMAN
    fake.scenario = functools.partial(
        serve_then_close, data=upgraded() + frame(1, b"yyyyy") + frame(2, PODMAN_WRITE_FAILED)
    )
    assert (await client.execs.start("e1").read()).frames == [LogFrame("stdout", b"yyyyy")]
    # from another engine the same bytes are the process's own
    fake.get_headers = ENGINE
    async with Docker(client.url, api_version="1.51") as other:
        output = await other.execs.start("e1").read()
    assert output.frames == [LogFrame("stdout", b"yyyyy"), LogFrame("stderr", PODMAN_WRITE_FAILED)]


async def test_podman_losing_output_is_stream_broken(client: Docker, fake: FakeEngine) -> None:
    # Podman's read from the process failed while input flowed: what came before is read,
    # then the loss is told
    fake.get_headers = PODMAN
    fake.scenario = functools.partial(
        serve_then_close, data=upgraded() + frame(2, b"warning\n") + frame(2, PODMAN_READ_FAILED)
    )
    async with client.containers.attach("web", stdin=True) as stream:
        assert await stream.__anext__() == LogFrame("stderr", b"warning\n")
        with pytest.raises(StreamBroken, match=r"Podman could not read all of the process's "
                           r"output, which may be incomplete \('Error: read unixpacket .*"
                           r"connection reset by peer'\); a Podman defect"):
            await stream.__anext__()
    # without stdin (an exec whose command could not start) nothing was lost: just dropped
    async with client.containers.attach("web") as stream:
        assert (await stream.read()).frames == [LogFrame("stderr", b"warning\n")]


async def test_cancelled_reader_closes_the_socket(client: Docker, fake: FakeEngine) -> None:
    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded())
        assert await conn.read_until_eof() == b""
        fake.closed.set()

    fake.scenario = scenario
    stream = client.containers.attach("web", stdin=True)
    reader = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.2)
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert stream.closed
    await asyncio.wait_for(fake.closed.wait(), 5)  # the engine saw the connection end
    with pytest.raises(StreamClosed):
        await stream.__anext__()
    with pytest.raises(StreamClosed):
        await stream.open()


async def test_abandoned_stream_warns_and_closes(client: Docker, fake: FakeEngine) -> None:
    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded())
        await conn.read_until_eof()
        fake.closed.set()

    fake.scenario = scenario
    stream: AttachStream | None = client.containers.attach("web")
    assert stream is not None
    await stream.open()
    with pytest.warns(ResourceWarning, match="left open"):
        stream = None
        gc.collect()
    await asyncio.wait_for(fake.closed.wait(), 5)
    # a stream that was never opened holds nothing and says nothing
    client.containers.attach("web")
    gc.collect()


def test_detach_sequence() -> None:
    assert detach_sequence(None) == b"\x10\x11"
    assert detach_sequence("") == b"\x10\x11"  # what exec inspect reports when unset
    assert detach_sequence("ctrl-p,ctrl-q") == b"\x10\x11"
    assert detach_sequence("CTRL-A,x") == b"\x01x"
    assert detach_sequence("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_") == bytes(
        [0, 27, 28, 29, 30, 31]
    )
    for bad in ("ctrl-", "ctrl-1", "ctrlp", "ab", "é", "ctrl-p,"):
        with pytest.raises(DockerError, match="not a detach key sequence"):
            detach_sequence(bad)


# ---------------------------------------------------------------------------------------------
# TCP and TLS
# ---------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def tcp_engine(fake: FakeEngine, ssl_ctx: ssl.SSLContext | None) -> AsyncIterator[int]:
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0, ssl=ssl_ctx)
    fake.server = server
    yield server.sockets[0].getsockname()[1]


async def test_plain_tcp(tmp_path: Path) -> None:
    fake = FakeEngine()
    received: list[bytes] = []

    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded())
        received.append(await conn.read_until_eof())
        await conn.send(frame(1, b"done"))

    fake.scenario = scenario
    try:
        async with tcp_engine(fake, None) as port:
            async with Docker(f"tcp://127.0.0.1:{port}", api_version="1.51", tls=False) as docker:
                async with docker.containers.attach("web", stdin=True) as stream:
                    await stream.write(b"over tcp")
                    await stream.close_stdin()
                    assert (await stream.read()).stdout == b"done"
        assert fake.conns[0].headers["host"] == f"127.0.0.1:{port}"
        assert received == [b"over tcp"]
    finally:
        await fake.stop()


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


async def test_tls_reads_and_writes_but_cannot_half_close(tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(str(cert), str(key))
    client_ctx = ssl.create_default_context(cafile=str(cert))
    fake = FakeEngine()
    received = bytearray()

    async def scenario(conn: Conn) -> None:
        await conn.send(upgraded() + frame(1, b"secret\n"))
        with contextlib.suppress(OSError):
            while chunk := await conn.reader.read(100):
                received.extend(chunk)
        fake.closed.set()

    fake.scenario = scenario
    try:
        async with tcp_engine(fake, server_ctx) as port:
            async with Docker(f"https://127.0.0.1:{port}", api_version="1.51",
                              tls=client_ctx) as docker:
                async with docker.containers.attach("web", stdin=True) as stream:
                    assert await stream.__anext__() == LogFrame("stdout", b"secret\n")
                    await stream.write(b"typed over TLS")
                    with pytest.raises(DockerError, match="TLS connection cannot be half-closed"):
                        await stream.close_stdin()
                    await stream.write(b"; still writable")
            await asyncio.wait_for(fake.closed.wait(), 5)
        assert bytes(received) == b"typed over TLS; still writable"
    finally:
        await fake.stop()
