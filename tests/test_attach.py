"""``containers.attach`` and ``containers.attach_websocket`` against real engines (every test
runs once per engine)."""

from __future__ import annotations

import asyncio
import time

import pytest

from aiodockersock import (
    AttachWebSocket,
    ClientLimitReached,
    Docker,
    InvalidArgument,
    Limits,
    NotFound,
    NotSupported,
    StreamClosed,
)
from aiodockersock.models import LogFrame

from .conftest import ContainerFactory, EngineHandle
from .test_execs import read_until

pytestmark = [pytest.mark.engine, pytest.mark.podman]


def status(engine: EngineHandle, cid: str) -> str:
    return engine.cli("inspect", "-f", "{{.State.Status}}", cid).stdout.strip()


async def test_attach_write_read_and_detach_leaves_it_running(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container(["cat"], OpenStdin=True)
    await docker.containers.start(cid)
    stream = docker.containers.attach(cid, stdin=True)
    async with stream:
        assert stream.tty is False and stream.exec_id is None
        await stream.write(b"hello\n")
        frame = await asyncio.wait_for(stream.__anext__(), 10)
        assert frame == LogFrame("stdout", b"hello\n")
        await stream.detach()
        assert stream.closed
        with pytest.raises(StreamClosed):
            await stream.write(b"x")
    if engine.podman:
        # Podman 4.3 closes the container's stdin when an attach session with stdin ends,
        # StdinOnce or not: cat sees the end of its input and exits
        waited = await docker.containers.wait(cid, timeout=10)
        assert waited.status_code == 0
        await docker.containers.start(cid)  # for the second session below
    else:
        await asyncio.sleep(0.3)
        assert status(engine, cid) == "running"
    # a second session to the same process, by the name the Engine reports ("/ads-…")
    name = (await docker.containers.inspect(cid)).name
    assert name is not None and name.startswith("/")
    async with docker.containers.attach(name, stdin=True) as again:
        await again.write(b"again\n")
        assert await read_until(again, b"again\n") == b"again\n"
    await asyncio.sleep(0.3)
    assert status(engine, cid) == ("exited" if engine.podman else "running")


async def test_tty_attach_detaches_with_the_detach_keys(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    # StdinOnce: closing stdin would end cat; detaching with the keys must not
    cid = await make_container(["cat"], OpenStdin=True, StdinOnce=True, Tty=True)
    await docker.containers.start(cid)
    async with docker.containers.attach(cid, stdin=True) as stream:
        assert stream.tty is True
        await stream.write(b"hello\n")
        # the terminal echoes the input, then cat writes it back
        assert await read_until(stream, b"hello\r\nhello\r\n") == b"hello\r\nhello\r\n"
        started = time.monotonic()
        await stream.detach()
        # the Engine honoured the keys and ended the session (detach() waits up to 5 s for it)
        assert time.monotonic() - started < 2.5
        assert stream.closed
    await asyncio.sleep(0.3)
    assert status(engine, cid) == "running"
    # custom detach keys
    async with docker.containers.attach(cid, stdin=True, detach_keys="ctrl-a,x") as stream:
        await stream.write(b"more\n")
        await read_until(stream, b"more\r\nmore\r\n")
        started = time.monotonic()
        await stream.detach()
        assert time.monotonic() - started < 2.5
    await asyncio.sleep(0.3)
    assert status(engine, cid) == "running"


async def test_resize_an_attached_tty(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await make_container(["sh"], OpenStdin=True, Tty=True)
    await docker.containers.start(cid)
    async with docker.containers.attach(cid, stdin=True) as shell:
        await shell.resize(33, 77)
        await shell.write(b"stty size\n")
        await read_until(shell, b"33 77\r\n")
        await shell.resize(20, 60)
        await shell.write(b"stty size\n")
        await read_until(shell, b"20 60\r\n")


async def test_closing_stdin_ends_a_stdin_once_container(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "cat; echo done >&2"], OpenStdin=True,
                               StdinOnce=True)
    await docker.containers.start(cid)
    async with docker.containers.attach(cid, stdin=True) as stream:
        await stream.write(b"line\n")
        assert await read_until(stream, b"line\n") == b"line\n"
        await stream.close_stdin()
        rest = await asyncio.wait_for(stream.read(), 10)
    assert rest.frames == [LogFrame("stderr", b"done\n")]
    assert (await docker.containers.wait(cid, timeout=10)).status_code == 0


async def test_attach_before_start_sees_all_output(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "echo out; sleep 0.2; echo err >&2; exit 2"])
    # as `docker start -a`: attach first (it waits for the start), then start
    async with docker.containers.attach(cid) as stream:
        await docker.containers.start(cid)
        output = await asyncio.wait_for(stream.read(), 15)
    assert [(f.stream, f.data) for f in output.frames] == [
        ("stdout", b"out\n"), ("stderr", b"err\n")
    ]
    assert (await docker.containers.wait(cid, timeout=10)).status_code == 2
    # logs=True replays what was written; stream=False ends after that
    async with docker.containers.attach(cid, logs=True, stream=False, stderr=False) as replay:
        assert (await asyncio.wait_for(replay.read(), 10)).output == b"out\n"


async def test_attach_errors(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    stream = docker.containers.attach("ads-no-such-container")  # lazy: nothing sent yet
    with pytest.raises(NotFound, match='no container with name or ID "ads-no-such-container"'
                       if engine.podman else "No such container: ads-no-such-container"
                       ) as info:
        await stream.open()
    assert info.value.status == 404 and info.value.method == "POST"
    assert info.value.path.endswith("/containers/ads-no-such-container/attach")
    assert not stream.closed
    with pytest.raises(InvalidArgument, match="detach key"):
        docker.containers.attach("x", detach_keys="ctrl-")
    cid = await make_container(["cat"], OpenStdin=True)
    await docker.containers.start(cid)
    async with docker.containers.attach(cid) as output_only:
        with pytest.raises(InvalidArgument, match="stdin is not attached"):
            await output_only.write(b"x")
        with pytest.raises(InvalidArgument, match="no TTY"):
            await output_only.resize(10, 10)


# -- over a WebSocket (GET /containers/{id}/attach/ws) ----------------------------------------


@pytest.mark.not_supported_on("podman")
async def test_websocket_attach_sends_a_line_and_reads_it_back(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container(["cat"], OpenStdin=True)
    await docker.containers.start(cid)
    ws = docker.containers.attach_websocket(cid)
    assert isinstance(ws, AttachWebSocket) and not ws.closed  # lazy: nothing sent yet
    if engine.podman:  # Podman 4.3's service has no WebSocket attach
        with pytest.raises(NotSupported, match=r"does not implement GET .*/attach/ws"):
            await ws.open()
        return
    async with ws:
        await ws.send("hello\n")  # a text message
        assert await asyncio.wait_for(ws.receive(), 10) == b"hello\n"  # dockerd: binary
        await ws.send(b"binary\n")
        assert await asyncio.wait_for(ws.receive(), 10) == b"binary\n"
    assert ws.closed and ws.close_code == 1000  # closed cleanly: a close frame both ways
    with pytest.raises(StreamClosed):
        await ws.send("x")
    await asyncio.sleep(0.3)
    assert status(engine, cid) == "running"  # cat goes on, as after a detach
    # a second session by the name the Engine reports
    name = (await docker.containers.inspect(cid)).name
    assert name is not None
    async with docker.containers.attach_websocket(name) as again:
        await again.send(b"again\n")
        assert await asyncio.wait_for(again.receive(), 10) == b"again\n"


@pytest.mark.docker_only  # Podman 4.3's service has no WebSocket attach (see the test above)
async def test_websocket_attach_ends_with_the_container(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "read line; echo got $line; echo oops >&2"],
                               OpenStdin=True)
    await docker.containers.start(cid)
    async with docker.containers.attach_websocket(cid) as ws:
        await ws.send(b"it\n")
        received = b"".join([m if isinstance(m, bytes) else m.encode() async for m in ws])
        assert ws.closed  # the daemon closed it when the container's output ended
        with pytest.raises(StreamClosed, match="has ended"):
            await ws.receive()
    assert sorted(received.decode().splitlines()) == ["got it", "oops"]  # stderr mixed in
    waited = await docker.containers.wait(cid, timeout=10)
    assert waited.status_code == 0


async def test_websocket_attach_errors(docker: Docker, engine: EngineHandle) -> None:
    ws = docker.containers.attach_websocket("ads-no-such-container")
    if engine.podman:
        with pytest.raises(NotSupported):
            await ws.open()
    else:
        with pytest.raises(NotFound, match="No such container: ads-no-such-container") as info:
            await ws.open()
        assert info.value.status == 404 and info.value.method == "GET"
        assert info.value.path.endswith("/containers/ads-no-such-container/attach/ws")
    assert not ws.closed
    await ws.aclose()
    with pytest.raises(StreamClosed):
        await ws.open()
    with pytest.raises(InvalidArgument, match="detach key"):
        docker.containers.attach_websocket("x", detach_keys="ctrl-")


@pytest.mark.docker_only  # Podman 4.3's service has no WebSocket attach
async def test_websocket_counts_as_a_stream_and_a_cancelled_read_closes_it(
    engine: EngineHandle, make_container: ContainerFactory, docker: Docker
) -> None:
    cid = await make_container(["cat"], OpenStdin=True)
    await docker.containers.start(cid)
    async with Docker(engine.host, limits=Limits(streams=1)) as limited:
        ws = limited.containers.attach_websocket(cid)
        await ws.open()
        assert limited._transport.open_streams == 1
        with pytest.raises(ClientLimitReached, match=r"Limits\(streams=1\)"):
            await limited.containers.attach_websocket(cid).open()
        reading = asyncio.create_task(ws.receive())
        await asyncio.sleep(0.2)  # waiting for output that never comes
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        assert ws.closed  # nobody owns the session after a cancellation: dropped
        assert limited._transport.open_streams == 0
        with pytest.raises(StreamClosed):
            await ws.send(b"x")
        await ws.aclose()  # safe after the drop
    await asyncio.sleep(0.3)
    assert status(engine, cid) == "running"
