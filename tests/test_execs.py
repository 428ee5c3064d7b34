"""The exec API against real engines (every test runs once per engine)."""

from __future__ import annotations

import asyncio
import time

import pytest

from aiodockersock import (
    AttachStream,
    Conflict,
    Docker,
    InvalidArgument,
    NotFound,
    StreamBroken,
    StreamClosed,
    WaitTimeout,
)
from aiodockersock.models import ExecResult, LogFrame

from .conftest import ContainerFactory, EngineHandle

pytestmark = [pytest.mark.engine, pytest.mark.podman]


async def running(make_container: ContainerFactory, docker: Docker, **extra: object) -> str:
    cid = await make_container(**extra)
    await docker.containers.start(cid)
    return cid


async def read_until(stream: AttachStream, needle: bytes, timeout: float = 15) -> bytes:
    """Read frames until their bytes contain ``needle``; return all the bytes read."""
    seen = b""

    async def read() -> bytes:
        nonlocal seen
        async for frame in stream:
            seen += frame.data
            if needle in seen:
                return seen
        raise AssertionError(f"the stream ended before {needle!r}; got {seen!r}")

    try:
        return await asyncio.wait_for(read(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"no {needle!r} within {timeout} s; got {seen!r}") from None


async def test_run_returns_exit_code_and_separated_output(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await running(make_container, docker)
    result = await docker.execs.run(cid, ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert isinstance(result, ExecResult)
    assert result.exit_code == 3
    assert result.stdout == b"out\n"
    assert result.stderr == b"err\n"
    assert result.output.tty is False
    assert sorted(result.output.frames, key=lambda f: f.stream) == [
        LogFrame("stderr", b"err\n"), LogFrame("stdout", b"out\n")
    ]
    info = await docker.execs.inspect(result.id)
    assert info.id == result.id
    assert info.container_id == cid
    assert info.running is False and info.exit_code == 3
    if engine.podman:  # Podman forgets the pid of an exec that has exited
        assert info.pid == 0
    else:
        assert info.pid and info.pid > 0
    assert info.open_stdout is True and info.open_stderr is True and info.open_stdin is False
    assert info.process_config is not None
    assert info.process_config.entrypoint == "sh"
    assert info.process_config.arguments == ["-c", "echo out; echo err >&2; exit 3"]
    assert info.process_config.tty is False


async def test_output_keeps_its_order(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await running(make_container, docker)
    # stdout and stderr are separate pipes: only writes apart in time have a defined order
    result = await docker.execs.run(
        cid, "sh -c 'echo 1; sleep 0.3; echo 2 >&2; sleep 0.3; echo 3'"
    )
    assert [(f.stream, f.data) for f in result.output.frames] == [
        ("stdout", b"1\n"), ("stderr", b"2\n"), ("stdout", b"3\n")
    ]
    assert result.output.output == b"1\n2\n3\n"
    # a large output arrives whole and in order, across many frames
    big = await docker.execs.run(cid, ["seq", "1", "50000"])
    assert big.exit_code == 0
    assert big.stdout == "".join(f"{i}\n" for i in range(1, 50001)).encode()


async def test_output_arrives_as_it_is_written(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await running(make_container, docker)
    async with docker.execs.open(cid, ["sh", "-c", "echo a; sleep 2; echo b"], stdin=False) as s:
        first = await asyncio.wait_for(s.__anext__(), 10)
        arrived = time.monotonic()
        assert first == LogFrame("stdout", b"a\n")
        assert s.exec_id is not None
        # the process is still sleeping: the first line was not held back until the end
        assert (await docker.execs.inspect(s.exec_id)).running is True
        second = await asyncio.wait_for(s.__anext__(), 10)
        assert second == LogFrame("stdout", b"b\n")
        assert time.monotonic() - arrived > 1.0
        with pytest.raises(StopAsyncIteration):
            await s.__anext__()
        assert s.closed
    assert (await docker.execs.wait(s.exec_id, timeout=10)).exit_code == 0


async def test_exec_and_attach_output_as_text_lines(
    docker: Docker, make_container: ContainerFactory
) -> None:
    """``.lines()`` works on an exec's (and an attach's) stream as on logs: lines joined across
    writes, per stream, with a TTY's \\r\\n endings trimmed."""
    cid = await running(make_container, docker)
    script = "printf 'par'; sleep 0.3; printf 'tial\\nnext\\n'; echo err >&2; printf end"
    async with docker.execs.open(cid, ["sh", "-c", script], stdin=False) as s:
        got = [(x.stream, x.text) async for x in s.lines()]
    assert [x for x in got if x[0] == "stdout"] == [
        ("stdout", "partial"), ("stdout", "next"), ("stdout", "end")
    ]
    assert [x for x in got if x[0] == "stderr"] == [("stderr", "err")]
    async with docker.execs.open(cid, ["sh", "-c", "echo one; echo two"], tty=True,
                                 stdin=False) as s:
        assert [x.text async for x in s.lines()] == ["one", "two"]
    attached = await make_container(["sh", "-c", "sleep 1; echo from-attach"])
    async with docker.containers.attach(attached) as stream:
        await docker.containers.start(attached)
        assert [x.text async for x in stream.lines()] == ["from-attach"]


async def test_tty_exec_is_one_raw_stream(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await running(make_container, docker)
    result = await docker.execs.run(cid, ["sh", "-c", "tty; echo hi; echo err >&2"], tty=True)
    assert result.exit_code == 0
    assert result.output.tty is True
    assert [f.stream for f in result.output.frames] == ["stdout"]
    assert result.stdout.startswith(b"/dev/pts/")
    # a terminal turns \n into \r\n, and stderr goes to the same terminal
    assert result.stdout.endswith(b"\r\nhi\r\nerr\r\n")
    assert result.stderr == b""
    assert (await docker.execs.inspect(result.id)).process_config.tty is True  # type: ignore[union-attr]


async def test_env_workdir_user_and_privileged(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await running(make_container, docker)
    script = 'echo "$GREETING|$EMPTY|$OTHER"; pwd; id -u'
    result = await docker.execs.run(
        cid, ["sh", "-c", script], env={"GREETING": "héllo wörld", "EMPTY": ""},
        workdir="/tmp", user="nobody",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.decode() == "héllo wörld||\n/tmp\n65534\n"
    as_list = await docker.execs.run(cid, ["sh", "-c", "echo $OTHER"], env=["OTHER=x=y"])
    assert as_list.stdout == b"x=y\n"
    info = await docker.execs.inspect(result.id)
    assert info.process_config is not None and info.process_config.user == "nobody"
    created = await docker.execs.create(cid, ["true"], privileged=True)
    assert created.id is not None
    pc = (await docker.execs.inspect(created.id)).process_config
    assert pc is not None and pc.privileged is True
    # the container's own working directory and user when not given
    plain = await docker.execs.run(cid, "sh -c 'pwd; id -u'")
    assert plain.stdout == b"/\n0\n"
    assert "running" in engine.cli("inspect", "-f", "{{.State.Status}}", cid).stdout


async def test_exec_errors(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    stopped = await make_container()
    # Podman: a 500 whose cause is "container state improper", raised as Conflict
    with pytest.raises(Conflict, match="can only create exec sessions on running containers"
                       if engine.podman else "is not running") as info:
        await docker.execs.run(stopped, ["true"])
    assert info.value.status == (500 if engine.podman else 409)
    assert info.value.path.endswith(f"/containers/{stopped}/exec")
    with pytest.raises(NotFound, match='no container with name or ID "ads-missing-exec"'
                       if engine.podman else "No such container: ads-missing-exec"):
        await docker.execs.create("ads-missing-exec", ["true"])
    with pytest.raises(NotFound):
        await docker.execs.inspect("0" * 64)
    with pytest.raises(NotFound):
        await docker.execs.resize("0" * 64, 10, 10)
    stream = docker.execs.start("0" * 64)  # lazy: nothing sent yet
    with pytest.raises(NotFound):
        await stream.open()
    paused = await running(make_container, docker)
    await docker.containers.pause(paused)
    with pytest.raises(Conflict, match="paused"):
        await docker.execs.create(paused, ["true"])
    await docker.containers.unpause(paused)
    # dockerd marks the container unpaused when containerd's resume event reaches it, which
    # may be just after its answer to the unpause: an exec in between is refused as paused
    for _ in range(100):
        if not (await docker.containers.inspect(paused)).state.paused:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(InvalidArgument, match="cmd"):
        await docker.execs.create(paused, [])
    with pytest.raises(InvalidArgument, match="detach key"):
        docker.execs.open(paused, ["sh"], detach_keys="ctrl-1")
    with pytest.raises(InvalidArgument, match="console_size"):
        docker.execs.open(paused, ["sh"], console_size=(0, 80))
    # a command that does not exist: the Engine reports it in the output, with 126/127
    missing = await docker.execs.run(paused, ["no-such-command"])
    if engine.podman:  # the runtime's message stays in Podman's log: only the code tells
        assert missing.exit_code == 127 and missing.stdout == b""
    else:
        assert missing.exit_code in (126, 127)
        assert b"no-such-command" in missing.stdout


async def test_interactive_cat(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await running(make_container, docker)
    stream = docker.execs.open(cid, ["cat"])
    assert stream.exec_id is None and stream.tty is None  # not connected yet
    async with stream:
        assert stream.exec_id is not None and stream.tty is False
        await stream.write(b"hello\n")
        assert await read_until(stream, b"hello\n") == b"hello\n"
        await stream.write(b"second line\n")
        assert await read_until(stream, b"line\n") == b"second line\n"
        await stream.close_stdin()  # cat sees the end of its input and exits
        with pytest.raises(StreamClosed, match="stdin"):
            await stream.write(b"too late")
        assert [frame async for frame in stream] == []
        assert stream.closed
    info = await docker.execs.wait(stream.exec_id, timeout=10)
    assert info.running is False and info.exit_code == 0


async def test_end_of_input_on_a_tty(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await running(make_container, docker)
    # Ctrl-D at the start of a line is the end of input for a process on a terminal
    async with docker.execs.open(cid, ["cat"], tty=True) as stream:
        await stream.write(b"typed\n")
        await read_until(stream, b"typed\r\ntyped\r\n")
        await stream.write(b"\x04")
        assert (await asyncio.wait_for(stream.read(), 10)).output == b""
    assert stream.exec_id is not None
    assert (await docker.execs.wait(stream.exec_id, timeout=10)).exit_code == 0
    # half-closing a TTY session ends the session, not the process (the Engine's rule)
    async with docker.execs.open(cid, ["cat"], tty=True) as stream:
        await stream.write(b"typed\n")
        await read_until(stream, b"typed\r\ntyped\r\n")
        await stream.close_stdin()
        await asyncio.wait_for(stream.read(), 10)
        assert stream.closed
    assert stream.exec_id is not None
    assert (await docker.execs.inspect(stream.exec_id)).running is True
    with pytest.raises(InvalidArgument, match="terminal has no end of input"):
        await docker.execs.run(cid, ["cat"], tty=True, input=b"x")


async def test_interactive_sh(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await running(make_container, docker)
    async with docker.execs.open(cid, ["sh"]) as shell:
        await shell.write(b"echo $((6 * 7))\n")
        assert await read_until(shell, b"\n") == b"42\n"
        await shell.write(b"cd /tmp && pwd\n")
        assert await read_until(shell, b"\n") == b"/tmp\n"
        await shell.write(b"echo oops >&2\n")
        frame = await asyncio.wait_for(shell.__anext__(), 10)
        assert frame == LogFrame("stderr", b"oops\n")
        await shell.write(b"pwd; exit 4\n")  # the shell kept its state between commands
        rest = await asyncio.wait_for(shell.read(), 10)
        assert rest.stdout == b"/tmp\n"
    assert shell.exec_id is not None
    assert (await docker.execs.wait(shell.exec_id, timeout=10)).exit_code == 4


async def test_resize_a_tty_exec(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await running(make_container, docker)
    # API 1.41 cannot send the size with the start request: it is set by a resize right after
    async with docker.execs.open(cid, ["sh"], tty=True, console_size=(11, 22)) as shell:
        assert shell.tty is True
        await shell.write(b"stty size\n")
        await read_until(shell, b"11 22\r\n")
        await shell.resize(40, 100)
        await shell.write(b"stty size\n")
        await read_until(shell, b"40 100\r\n")
        assert shell.exec_id is not None
        await docker.execs.resize(shell.exec_id, 30, 90)
        await shell.write(b"stty size; exit 0\n")
        await read_until(shell, b"30 90\r\n")
    async with docker.execs.open(cid, ["cat"]) as plain:
        with pytest.raises(InvalidArgument, match="no TTY"):
            await plain.resize(10, 10)


async def test_cancelled_reader_closes_the_connection(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await running(make_container, docker)
    stream = docker.execs.open(cid, ["cat"])
    await stream.open()
    reader = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0.3)
    assert not reader.done()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    assert stream.closed
    with pytest.raises(StreamClosed):
        await stream.write(b"x")
    # the socket really is closed: cat got the end of its input and exited
    assert stream.exec_id is not None
    info = await docker.execs.wait(stream.exec_id, timeout=10)
    assert info.exit_code == 0


async def test_start_a_created_exec_attached_and_detached(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await running(make_container, docker)
    created = await docker.execs.create(cid, ["sh", "-c", "echo hi; echo there >&2"])
    assert created.id is not None and len(created.id) == 64
    async with docker.execs.start(created.id) as stream:
        assert stream.exec_id == created.id and stream.tty is False
        with pytest.raises(InvalidArgument, match="stdin is not attached"):
            await stream.write(b"x")
        output = await stream.read()
    assert (output.stdout, output.stderr) == (b"hi\n", b"there\n")
    assert (await docker.execs.wait(created.id, timeout=10)).exit_code == 0

    # a TTY exec started by id: start() learns its TTY from the Engine
    # (on API 1.41 the size is set just after the start: give the resize time to land)
    tty = await docker.execs.create(cid, ["sh", "-c", "sleep 0.5; stty size"], tty=True)
    assert tty.id is not None
    async with docker.execs.start(tty.id, console_size=(12, 34)) as stream:
        assert (await stream.read()).stdout == b"12 34\r\n"

    detached = await docker.execs.create(cid, ["sh", "-c", "sleep 0.3; exit 4"])
    assert detached.id is not None
    await docker.execs.start_detached(detached.id)
    if engine.podman:  # Podman never records the exit of a detached exec: wait says so
        with pytest.raises(WaitTimeout, match="Podman does not record the exit of an exec "
                                              "started detached"):
            await docker.execs.wait(detached.id, timeout=1)
        assert (await docker.execs.inspect(detached.id)).running is True
    else:
        info = await docker.execs.wait(detached.id, timeout=10)
        assert info.exit_code == 4 and info.running is False
    with pytest.raises(Conflict):
        await docker.execs.start_detached(detached.id)  # an exec runs once


async def test_run_with_input(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await running(make_container, docker)
    upper = await docker.execs.run(cid, ["tr", "a-z", "A-Z"], input=b"hello world\n")
    assert (upper.exit_code, upper.stdout) == (0, b"HELLO WORLD\n")
    # larger than every buffer on the way: written while the output is read
    data = bytes(range(256)) * 8192  # 2 MiB
    echoed = await docker.execs.run(cid, ["cat"], input=data)
    assert echoed.exit_code == 0 and echoed.stdout == data
    counted = await docker.execs.run(cid, ["wc", "-c"], input=data)
    assert counted.stdout.strip() == str(len(data)).encode()
    empty = await docker.execs.run(cid, ["wc", "-c"], input=b"")
    assert empty.stdout.strip() == b"0"
    # a process that stops reading early: its output and exit code, not a hang or an error,
    # and no word of the input it left (Podman's "write unixpacket … broken pipe" is dropped)
    head = await run_unread(docker, engine, cid, ["sh", "-c", "head -c 5; exit 3"])
    assert head is None or (head.exit_code, head.output.frames) == (
        3, [LogFrame("stdout", b"yyyyy")]
    )
    ignored = await run_unread(docker, engine, cid, ["true"])
    assert ignored is None or (ignored.exit_code, ignored.output.frames) == (0, [])


async def run_unread(
    docker: Docker, engine: EngineHandle, cid: str, cmd: list[str]
) -> ExecResult | None:
    """``cmd`` fed more input than it reads; ``None`` where Podman lost the output and the
    run said so (its defect, a few times in a hundred: containers/podman#11446)."""
    try:
        return await asyncio.wait_for(docker.execs.run(cid, cmd, input=b"y" * 5_000_000), 60)
    except StreamBroken as exc:
        if not engine.podman:
            raise
        assert "Podman could not read all of the process's output" in str(exc)
        assert "containers/podman#11446" in str(exc)
        return None
