"""The containers API against real engines (every test runs once per engine)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import socket
import stat
import tarfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from aiodockersock import (
    APIError,
    BadRequest,
    Conflict,
    ContainerChange,
    ContainerError,
    ContainerWatch,
    Docker,
    DockerTimeoutError,
    InvalidArgument,
    NotFound,
    NotSupported,
    ServerError,
    StreamClosed,
    WaitTimeout,
)
from aiodockersock.models import (
    ContainerCreateBody,
    ContainerResources,
    HostConfig,
    RestartPolicy,
)

from .conftest import TEST_IMAGE, TEST_LABEL, ContainerFactory, EngineHandle

pytestmark = [pytest.mark.engine, pytest.mark.podman]


async def test_create_from_typed_body_and_inspect(docker: Docker, engine: EngineHandle) -> None:
    name = f"ads-typed-{secrets.token_hex(4)}"
    body = ContainerCreateBody(
        image=TEST_IMAGE,
        cmd=["sleep", "300"],
        env=["GREETING=héllo"],
        labels={TEST_LABEL: "1", "purpose": "typed"},
        working_dir="/tmp",
        host_config=HostConfig(network_mode="none", memory=64 * 2**20, init=False),
    )
    created = await docker.containers.create(body, name=name)
    try:
        assert created.id is not None and len(created.id) == 64
        assert created.warnings in (None, [])
        c = await docker.containers.inspect(created.id)
        assert c.id == created.id
        assert c.name == f"/{name}"
        assert c.state is not None and c.state.status == "created" and not c.state.running
        assert c.config is not None
        assert c.config.image == engine.image_name(TEST_IMAGE)  # Podman: docker.io/…
        assert c.config.cmd == ["sleep", "300"]
        assert "GREETING=héllo" in (c.config.env or [])
        assert c.config.labels == {TEST_LABEL: "1", "purpose": "typed"}
        assert c.config.working_dir == "/tmp"
        assert c.host_config is not None
        assert c.host_config.network_mode == "none"
        assert c.host_config.memory == 64 * 2**20
        assert c.created and c.created.startswith("20")
        assert c.image and c.image.startswith("sha256:")
        # cross-check with the docker CLI
        out = engine.cli("inspect", "--format", "{{.Config.WorkingDir}} {{.HostConfig.Memory}}",
                         name).stdout.strip()
        assert out == f"/tmp {64 * 2**20}"
        # the same container by name, by the Engine's "/name" form, and by id prefix
        assert (await docker.containers.inspect(name)).id == created.id
        assert (await docker.containers.inspect(f"/{name}")).id == created.id
        assert (await docker.containers.inspect(created.id[:12])).id == created.id
    finally:
        await docker.containers.remove(created.id or name, force=True)


async def test_lifecycle_start_stop_restart_pause_kill(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container()
    assert await docker.containers.start(cid) is True
    assert await docker.containers.start(cid) is False  # 304: already running
    state = (await docker.containers.inspect(cid)).state
    assert state is not None and state.running and state.pid

    await docker.containers.pause(cid)
    state = (await docker.containers.inspect(cid)).state
    assert state is not None and state.paused and state.status == "paused"
    with pytest.raises(Conflict):
        await docker.containers.pause(cid)
    await docker.containers.unpause(cid)

    old_pid = state.pid
    await docker.containers.restart(cid, timeout=1)
    state = (await docker.containers.inspect(cid)).state
    assert state is not None and state.running and state.pid != old_pid

    assert await docker.containers.stop(cid, timeout=1) is True
    assert await docker.containers.stop(cid, timeout=1) is False  # 304: not running
    state = (await docker.containers.inspect(cid)).state
    assert state is not None and not state.running and state.status == "exited"

    # Podman says so with a 500 ("… is in state exited: container state improper"): Conflict
    with pytest.raises(Conflict, match="can only kill running containers" if engine.podman
                       else "is not running"):
        await docker.containers.kill(cid)
    await docker.containers.start(cid)
    await docker.containers.kill(cid, signal="KILL")  # PID 1 would ignore SIGTERM
    waited = await docker.containers.wait(cid, timeout=30)
    assert waited.status_code == 137  # 128 + SIGKILL


async def test_wait_returns_exit_code_and_honours_timeout(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "sleep 0.3; exit 7"])
    await docker.containers.start(cid)
    waited = await docker.containers.wait(cid)
    assert waited.status_code == 7
    slow = await make_container(["sleep", "300"])
    await docker.containers.start(slow)
    with pytest.raises(DockerTimeoutError):
        await docker.containers.wait(slow, timeout=0.5)
    # the client is still usable after a timed-out wait
    assert (await docker.containers.inspect(slow)).state.running  # type: ignore[union-attr]


async def test_wait_next_exit_sees_the_next_stop(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    waiter = asyncio.create_task(docker.containers.wait(cid, condition="next-exit"))
    await asyncio.sleep(0.2)
    assert not waiter.done()
    await docker.containers.kill(cid, signal=9)
    assert (await waiter).status_code == 137


async def test_remove_running_without_force_is_conflict(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    with pytest.raises(Conflict) as info:
        await docker.containers.remove(cid)
    if engine.podman:  # a 500 whose cause is "container state improper": Conflict all the same
        assert info.value.status == 500
        assert "running or paused containers cannot be removed without force" \
            in info.value.message
    else:
        assert info.value.status == 409
        assert "stop the container before removing or force remove" \
            in info.value.message.lower() \
            or "cannot remove a running container" in info.value.message.lower()
    await docker.containers.remove(cid, force=True, volumes=True)
    with pytest.raises(NotFound):
        await docker.containers.inspect(cid)


async def test_force_remove_kills_a_running_container_at_once(
    docker: Docker, make_container: ContainerFactory
) -> None:
    """As Docker does, on Podman too (whose service would stop it, waiting its stop timeout:
    ``sleep`` as pid 1 ignores SIGTERM)."""
    cid = await make_container(["sleep", "300"], StopTimeout=30)
    await docker.containers.start(cid)
    started = time.monotonic()
    await docker.containers.remove(cid, force=True)
    assert time.monotonic() - started < 10
    with pytest.raises(NotFound):
        await docker.containers.inspect(cid)
    created = await make_container()  # never started: nothing to kill, removed all the same
    await docker.containers.remove(created, force=True)
    with pytest.raises(NotFound):
        await docker.containers.inspect(created)


async def test_inspect_missing_is_not_found_with_daemons_message(
    docker: Docker, engine: EngineHandle
) -> None:
    name = f"ads-missing-{secrets.token_hex(4)}"
    with pytest.raises(NotFound) as info:
        await docker.containers.inspect(name)
    assert info.value.status == 404
    assert info.value.message == (
        f'no container with name or ID "{name}" found: no such container' if engine.podman
        else f"No such container: {name}"
    )
    assert info.value.method == "GET"
    assert info.value.path.endswith(f"/containers/{name}/json")


async def test_create_with_missing_image_and_bad_config(
    docker: Docker, engine: EngineHandle, make_container: ContainerFactory
) -> None:
    with pytest.raises(NotFound, match="no such image: docker.io/" if engine.podman
                       else "No such image"):
        await docker.containers.create({"Image": "aiodockersock-test/absent:nope"})
    bad = {"HostConfig": {"NetworkMode": "none", "Memory": 1}}
    if engine.podman:  # Podman checks the memory limit only when the runtime applies it
        cid = await make_container(**bad)
        with pytest.raises(ServerError, match="unable to set memory limit to 1"):
            await docker.containers.start(cid)
    else:
        with pytest.raises(BadRequest):
            await docker.containers.create({"Image": TEST_IMAGE, **bad})
    with pytest.raises(InvalidArgument, match="ContainerCreateBody or a mapping"):
        await docker.containers.create(["not", "a", "config"])  # type: ignore[arg-type]


async def test_duplicate_name_is_conflict(docker: Docker, make_container: ContainerFactory) -> None:
    name = f"ads-dup-{secrets.token_hex(4)}"
    await make_container(name=name)
    with pytest.raises(Conflict, match="already in use"):
        await docker.containers.create({"Image": TEST_IMAGE}, name=name)


async def test_list_all_limit_size_filters(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    tag = secrets.token_hex(4)
    running = await make_container(Labels={TEST_LABEL: "1", "batch": tag})
    stopped = await make_container(["true"], Labels={TEST_LABEL: "1", "batch": tag})
    await docker.containers.start(running)
    mine = {"label": f"batch={tag}"}

    listed = await docker.containers.list(filters=mine)
    assert [c.id for c in listed] == [running]
    everything = await docker.containers.list(all=True, filters=mine)
    assert {c.id for c in everything} == {running, stopped}
    assert everything[0].id == stopped  # newest first
    summary = next(c for c in everything if c.id == running)
    assert summary.image == engine.image_name(TEST_IMAGE)
    assert summary.state == "running"
    assert summary.status and summary.status.startswith("Up")
    assert summary.names and summary.names[0].startswith("/ads-")
    assert summary.labels == {TEST_LABEL: "1", "batch": tag}
    assert summary.command == "sleep 300"
    assert isinstance(summary.created, int) and summary.created > 1_600_000_000
    if engine.podman:  # Podman's list has no HostConfig
        assert summary.host_config is None
    else:
        assert summary.host_config is not None and summary.host_config.network_mode == "none"

    created_only = await docker.containers.list(
        all=True, filters={**mine, "status": ["created", "exited"]}
    )
    assert [c.id for c in created_only] == [stopped]
    assert len(await docker.containers.list(limit=1, filters=mine)) == 1
    sized = await docker.containers.list(all=True, size=True, filters=mine)
    assert all(c.size_root_fs is not None and c.size_root_fs > 0 for c in sized)
    with pytest.raises(BadRequest, match=r"(?i)invalid filter"):
        await docker.containers.list(filters={"no-such-filter": "x"})


async def test_rename(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await make_container()
    new = f"ads-renamed-{secrets.token_hex(4)}"
    await docker.containers.rename(cid, new)
    assert (await docker.containers.inspect(new)).id == cid
    other = await make_container()
    with pytest.raises(Conflict):
        await docker.containers.rename(other, new)


async def test_top_lists_the_processes(docker: Docker, make_container: ContainerFactory) -> None:
    cid = await make_container(["sleep", "301"])
    with pytest.raises(Conflict):
        await docker.containers.top(cid)
    await docker.containers.start(cid)
    top = await docker.containers.top(cid)
    assert top.titles and "PID" in top.titles
    cmd_col = top.titles.index("CMD") if "CMD" in top.titles else len(top.titles) - 1
    assert any("sleep 301" in row[cmd_col] for row in top.processes or [])
    custom = await docker.containers.top(cid, ps_args="-o pid,comm")
    assert custom.titles == ["PID", "COMMAND"]


async def test_top_of_a_running_container_without_ps_says_why_not_not_running(
    docker: Docker, engine: EngineHandle, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sleep", "302"])
    await docker.containers.start(cid)
    engine.cli("exec", cid, "rm", "/bin/ps")  # as if its image had no ps
    if not engine.podman:  # dockerd runs ps on the host
        top = await docker.containers.top(cid)
        assert any("sleep 302" in " ".join(row) for row in top.processes or [])
        return
    # Podman runs ps inside the container, and answers 200 with nothing
    with pytest.raises(ServerError, match=r"(?s)running container .*no ps") as info:
        await docker.containers.top(cid)
    assert not isinstance(info.value, Conflict) and "not running" not in str(info.value)
    assert (await docker.containers.inspect(cid)).state.running  # type: ignore[union-attr]


async def test_changes_reports_added_and_modified_files(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "echo x > /tmp/new-file"])
    assert await docker.containers.changes(cid) == []
    await docker.containers.start(cid)
    assert (await docker.containers.wait(cid)).status_code == 0
    changes = {c.path: c.kind for c in await docker.containers.changes(cid)}
    assert changes.get("/tmp/new-file") == 1  # added
    assert changes.get("/tmp") == 0  # modified


@pytest.mark.not_supported_on("podman")
async def test_update_resources_and_restart_policy(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container()
    if engine.podman:  # Podman 4.3's service has no POST /containers/{id}/update
        with pytest.raises(NotSupported, match=r"does not implement POST /v1\.\d+/containers/"
                                               r"[0-9a-f]{64}/update"):
            await docker.containers.update(cid, ContainerResources(memory=96 * 2**20))
        return
    result = await docker.containers.update(
        cid,
        ContainerResources(
            memory=96 * 2**20,
            memory_swap=-1,
            cpu_shares=512,
            restart_policy=RestartPolicy(name="on-failure", maximum_retry_count=2),
        ),
    )
    assert result.warnings in (None, [])
    hc = (await docker.containers.inspect(cid)).host_config
    assert hc is not None
    assert hc.memory == 96 * 2**20
    assert hc.cpu_shares == 512
    assert hc.restart_policy == RestartPolicy(name="on-failure", maximum_retry_count=2)
    await docker.containers.update(cid, {"CpuShares": 256})
    hc = (await docker.containers.inspect(cid)).host_config
    assert hc is not None and hc.cpu_shares == 256
    with pytest.raises(BadRequest):
        await docker.containers.update(cid, ContainerResources(memory=1024))


async def test_prune_removes_only_matching_stopped_containers(
    docker: Docker, make_container: ContainerFactory
) -> None:
    tag = secrets.token_hex(4)
    labels = {TEST_LABEL: "1", "prune": tag}
    stopped = await make_container(["true"], Labels=labels)
    running = await make_container(Labels=labels)
    await docker.containers.start(running)
    report = await docker.containers.prune(filters={"label": f"prune={tag}"})
    assert report.containers_deleted == [stopped]
    assert report.space_reclaimed is not None and report.space_reclaimed >= 0
    assert (await docker.containers.inspect(running)).id == running
    again = await docker.containers.prune(filters={"label": f"prune={tag}"})
    assert again.containers_deleted in (None, [])


async def test_logs_demultiplexes_stdout_and_stderr(
    docker: Docker, make_container: ContainerFactory
) -> None:
    script = "echo out1; echo err1 >&2; printf 'caf\\303\\251\\n'; echo err2 >&2"
    cid = await make_container(["sh", "-c", script])
    await docker.containers.start(cid)
    await docker.containers.wait(cid)
    logs = await docker.containers.logs(cid)
    assert not logs.tty
    assert logs.stdout == "out1\ncafé\n".encode()
    assert logs.stderr == b"err1\nerr2\n"
    assert {f.stream for f in logs.frames} == {"stdout", "stderr"}
    only_err = await docker.containers.logs(cid, stdout=False)
    assert only_err.stdout == b"" and only_err.stderr == b"err1\nerr2\n"
    counted = await make_container(["seq", "1", "5"])
    await docker.containers.start(counted)
    await docker.containers.wait(counted)
    assert (await docker.containers.logs(counted, tail=2)).stdout == b"4\n5\n"
    stamped = await docker.containers.logs(cid, timestamps=True, stderr=False)
    first = stamped.stdout.split(b"\n")[0]
    assert first.startswith(b"20") and first.endswith(b" out1")
    assert (await docker.containers.logs(cid, since=4_000_000_000)).frames == []


async def test_logs_of_tty_container_are_raw(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "echo tty-out; echo tty-err >&2"], Tty=True)
    await docker.containers.start(cid)
    await docker.containers.wait(cid)
    logs = await docker.containers.logs(cid)
    assert logs.tty
    assert logs.stdout == b"tty-out\r\ntty-err\r\n"
    assert logs.stderr == b""
    assert logs.text() == "tty-out\r\ntty-err\r\n"


async def test_followed_logs_arrive_as_written_and_end_when_it_stops(
    docker: Docker, make_container: ContainerFactory
) -> None:
    script = "echo first; echo oops >&2; read x; echo second; printf 'tail-no-newline'"
    cid = await make_container(["sh", "-c", script], OpenStdin=True)
    await docker.containers.start(cid)
    stream = docker.containers.logs(cid, follow=True)
    frames = []
    async with stream:
        assert stream.tty is False
        it = stream.__aiter__()
        # the first two frames come while the container is still blocked in 'read'
        frames.append(await asyncio.wait_for(it.__anext__(), 10))
        frames.append(await asyncio.wait_for(it.__anext__(), 10))
        assert {(f.stream, f.data) for f in frames} == {("stdout", b"first\n"),
                                                       ("stderr", b"oops\n")}
        assert (await docker.containers.inspect(cid)).state.running  # type: ignore[union-attr]
        await docker.containers.kill(cid, signal="SIGKILL")
        frames += [f async for f in it]
    assert stream.closed
    # killed while blocked: nothing after 'read' was written; the stream ended by itself
    assert b"".join(f.data for f in frames if f.stream == "stdout") == b"first\n"


async def test_a_follower_of_a_quiet_container_waits_past_the_request_timeout(
    engine: EngineHandle, make_container: ContainerFactory
) -> None:
    # Podman sends a followed log's response head only with the first line: the follower
    # waits for it as long as it takes, as for the lines after it
    cid = await make_container(["sh", "-c", "sleep 3.5; echo late"])
    async with Docker(engine.host, timeout=2) as short:
        await short.containers.start(cid)
        started = time.monotonic()
        async with short.containers.logs(cid, follow=True, tail=0) as stream:
            first = await asyncio.wait_for(stream.__aiter__().__anext__(), 30)
        assert first.data == b"late\n" and time.monotonic() - started > 2


async def test_log_batches_give_every_frame_in_order_a_read_at_a_time(
    docker: Docker, make_container: ContainerFactory
) -> None:
    # 2,000 numbered lines on each stream, written at once: they arrive many to a read
    script = "seq 1 2000 & seq 1 2000 | sed s/^/e/ >&2; wait"
    cid = await make_container(["sh", "-c", script])
    await docker.containers.start(cid)
    await docker.containers.wait(cid)
    one_by_one = [(f.stream, f.data) async for f in docker.containers.logs(cid)]
    batches = [b async for b in docker.containers.logs(cid, follow=True).batches()]
    assert all(batches)  # never an empty batch
    assert max(map(len, batches)) > 1  # frames do come together
    assert [(f.stream, f.data) for b in batches for f in b] == one_by_one
    out = b"".join(f.data for b in batches for f in b if f.stream == "stdout")
    err = b"".join(f.data for b in batches for f in b if f.stream == "stderr")
    assert out == "".join(f"{i}\n" for i in range(1, 2001)).encode()
    assert err == "".join(f"e{i}\n" for i in range(1, 2001)).encode()


async def test_leaving_a_followed_log_early_closes_it_at_once(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "while :; do echo tick; sleep 0.05; done"])
    await docker.containers.start(cid)
    stream = docker.containers.logs(cid, follow=True)
    frames = stream.__aiter__()
    assert (await asyncio.wait_for(frames.__anext__(), 10)).data == b"tick\n"
    await frames.aclose()  # what 'break' in 'async for' does when the loop's iterator goes
    assert stream.closed  # not left for the garbage collector
    second = docker.containers.logs(cid, follow=True)
    batches = second.batches()
    assert (await asyncio.wait_for(batches.__anext__(), 10))[0].data == b"tick\n"
    await batches.aclose()
    assert second.closed


async def test_followed_log_lines_join_split_writes_and_keep_timestamps(
    docker: Docker, make_container: ContainerFactory
) -> None:
    # (a character split across writes is covered by test_bodies: dockerd's json-file driver
    # itself mangles a write that ends inside a UTF-8 character)
    script = "printf 'par'; sleep 0.3; printf 'tial caf\\303\\251'; sleep 0.3; printf '\\nnext\\n'"
    cid = await make_container(["sh", "-c", script])
    await docker.containers.start(cid)
    lines = [line async for line in docker.containers.logs(cid, follow=True).lines()]
    assert [(x.stream, x.text) for x in lines] == [("stdout", "partial café"),
                                                  ("stdout", "next")]
    assert all(x.timestamp is None for x in lines)
    stamped = [x async for x in docker.containers.logs(cid, timestamps=True).lines()]
    assert [x.text for x in stamped][-1] == "next"
    assert all(x.timestamp and x.timestamp.startswith("20") for x in stamped)


async def test_followed_logs_of_a_tty_container(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "echo one; sleep 0.2; echo two >&2"], Tty=True)
    await docker.containers.start(cid)
    stream = docker.containers.logs(cid, follow=True)
    text = "".join([line.text + "|" async for line in stream.lines()])
    assert stream.tty is True
    assert text == "one|two|"


async def test_logs_of_a_missing_container_raise_when_opened(docker: Docker) -> None:
    stream = docker.containers.logs("ads-no-such-container", follow=True)
    with pytest.raises(NotFound, match="ads-no-such-container"):
        async for _ in stream:
            pass
    assert stream.tty is None  # never opened: nothing to close, nothing leaked


async def test_cancelled_log_follower_closes_its_connection(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "echo hi; sleep 300"])
    await docker.containers.start(cid)
    stream = docker.containers.logs(cid, follow=True)
    seen = asyncio.Event()

    async def follow() -> None:
        async for _ in stream:
            seen.set()

    task = asyncio.create_task(follow())
    await asyncio.wait_for(seen.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert stream.closed
    with pytest.raises(StreamClosed):
        await stream.open()


async def test_stats_one_shot_and_streamed(
    docker: Docker, make_container: ContainerFactory
) -> None:
    busy = await make_container(["sh", "-c", "while :; do :; done"])
    await docker.containers.start(busy)
    sample = await docker.containers.stats(busy)
    assert sample.id == busy
    assert sample.name is not None and sample.name.startswith("/ads-")
    # a busy loop keeps a CPU busy: far above an idle container's ~0 % even when the other
    # lanes' tests take their share of this machine's cores
    assert sample.cpu_percent > 5.0
    assert 0 < sample.memory_usage < 64 * 2**20
    assert sample.memory_limit > sample.memory_usage
    assert 0.0 < sample.memory_percent < 100.0
    assert sample.pids >= 1
    assert sample.network_rx_bytes == 0  # NetworkMode none
    samples = []
    async with docker.containers.stats_stream(busy) as stream:
        async for one in stream:
            samples.append(one)
            if len(samples) == 2:
                break
    assert stream.closed
    assert [s.id for s in samples] == [busy, busy]
    assert samples[1].read != samples[0].read
    assert samples[1].cpu_percent > 5.0
    with pytest.raises(NotFound):
        await docker.containers.stats("ads-no-such-container")


async def test_export_streams_the_filesystem_as_a_tar(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "echo exported > /marker.txt"])
    await docker.containers.start(cid)
    await docker.containers.wait(cid)
    chunks = [chunk async for chunk in docker.containers.export(cid)]
    assert len(chunks) > 1  # streamed, not one body
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        names = tar.getnames()
        assert "bin/busybox" in names
        member = tar.extractfile("marker.txt")
        assert member is not None and member.read() == b"exported\n"
    with pytest.raises(NotFound):
        await docker.containers.export("ads-no-such-container").read()


def _tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o640
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def test_put_archive_then_stat_and_get_it_back(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    await docker.containers.put_archive(
        cid, "/tmp", _tar_of({"in/a.txt": b"alpha\n", "in/b.txt": "bëta\n".encode()})
    )
    # cross-check with the docker CLI
    assert engine.cli("exec", cid, "cat", "/tmp/in/b.txt").stdout == "bëta\n"
    stat = await docker.containers.stat_path(cid, "/tmp/in/a.txt")
    assert (stat.name, stat.size, stat.is_dir, stat.permissions) == ("a.txt", 6, False, 0o640)
    assert (await docker.containers.stat_path(cid, "/tmp/in")).is_dir
    link = await docker.containers.stat_path(cid, "/bin/sh")
    assert link.name == "sh" and (link.is_symlink or link.size > 0)
    async with docker.containers.get_archive(cid, "/tmp/in") as archive:
        assert archive.stat.is_dir and archive.stat.name == "in"
        data = await archive.read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert sorted(tar.getnames()) == ["in", "in/a.txt", "in/b.txt"]
        member = tar.extractfile("in/a.txt")
        assert member is not None and member.read() == b"alpha\n"
    # from a file object and from an async iterable: streamed uploads
    await docker.containers.put_archive(cid, "/tmp", io.BytesIO(_tar_of({"f.txt": b"file"})))

    async def pieces():  # type: ignore[no-untyped-def]
        blob = _tar_of({"g.txt": b"gen"})
        for i in range(0, len(blob), 1000):
            yield blob[i : i + 1000]

    await docker.containers.put_archive(cid, "/tmp", pieces())
    assert engine.cli("exec", cid, "cat", "/tmp/f.txt", "/tmp/g.txt").stdout == "filegen"


async def test_stat_and_archive_of_a_name_whose_stat_has_every_base64_letter(
    docker: Docker, make_container: ContainerFactory
) -> None:
    # the path stat's base64 has a "/" in Docker's alphabet where Podman's URL-safe one has a
    # "_" (the name's "???" is "Pz8/" or "Pz8_"); issue 15 saw it with "q?x.txt"
    cid = await make_container()
    await docker.containers.start(cid)
    await docker.containers.put_archive(cid, "/tmp", _tar_of({"q?x???.txt": b"hi\n"}))
    stat = await docker.containers.stat_path(cid, "/tmp/q?x???.txt")
    assert (stat.name, stat.size, stat.is_dir) == ("q?x???.txt", 3, False)
    async with docker.containers.get_archive(cid, "/tmp/q?x???.txt") as archive:
        assert archive.stat.name == "q?x???.txt"
        data = await archive.read()
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.extractfile("q?x???.txt")
        assert member is not None and member.read() == b"hi\n"


async def test_archive_errors_say_what_was_wrong(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    with pytest.raises(NotFound, match="/nowhere"):
        await docker.containers.stat_path(cid, "/nowhere")
    with pytest.raises(NotFound):
        await docker.containers.get_archive(cid, "/nowhere").read()
    with pytest.raises(NotFound):
        await docker.containers.put_archive(cid, "/nowhere", _tar_of({"x": b"x"}))
    with pytest.raises(BadRequest, match="not a directory"):  # 20.10 says it with a 500
        await docker.containers.put_archive(cid, "/bin/busybox", _tar_of({"x": b"x"}))
    with pytest.raises(InvalidArgument, match=r"pathlib\.Path"):
        await docker.containers.put_archive(cid, "/tmp", "/some/local.tar")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="does not exist"):
        await docker.containers.copy_to(cid, "/no/such/local/path", "/tmp")


async def test_copy_a_directory_in_and_out(
    docker: Docker, make_container: ContainerFactory, tmp_path: Path, engine: EngineHandle
) -> None:
    src = tmp_path / "src" / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "top.txt").write_text("top\n")
    (src / "sub" / "naïve-中文.txt").write_text("unicode name\n")
    (src / "sub" / "big.bin").write_bytes(os.urandom(3 * 2**20))
    (src / "link").symlink_to("top.txt")
    cid = await make_container()
    await docker.containers.start(cid)
    await docker.containers.copy_to(cid, src, "/tmp")
    listing = engine.cli("exec", cid, "find", "/tmp/tree").stdout.split()
    assert "/tmp/tree/sub/naïve-中文.txt" in listing
    out = tmp_path / "out"
    stat = await docker.containers.copy_from(cid, "/tmp/tree", out)
    assert stat.is_dir and stat.name == "tree"
    got = out / "tree"
    assert (got / "top.txt").read_text() == "top\n"
    assert (got / "sub" / "naïve-中文.txt").read_text() == "unicode name\n"
    assert (got / "sub" / "big.bin").read_bytes() == (src / "sub" / "big.bin").read_bytes()
    assert os.readlink(got / "link") == "top.txt"
    single = await docker.containers.copy_from(cid, "/tmp/tree/top.txt", tmp_path / "one")
    assert single.size == 4 and (tmp_path / "one" / "top.txt").read_text() == "top\n"


async def test_run_collects_output_and_removes(docker: Docker, engine: EngineHandle) -> None:
    name = f"ads-run-{secrets.token_hex(4)}"
    result = await docker.containers.run(
        {"Image": TEST_IMAGE, "HostConfig": {"NetworkMode": "none"},
         "Labels": {TEST_LABEL: "1"}},
        "sh -c 'echo hi; echo warn >&2'",
        name=name,
        remove=True,
    )
    assert result.exit_code == 0
    assert result.stdout == b"hi\n"
    assert result.stderr == b"warn\n"
    assert result.removed
    with pytest.raises(NotFound):
        await docker.containers.inspect(name)
    assert engine.cli("ps", "-aq", "--filter", f"name={name}").stdout.strip() == ""


async def test_run_nonzero_exit_raises_container_error(docker: Docker) -> None:
    body = ContainerCreateBody(image=TEST_IMAGE, labels={TEST_LABEL: "1"},
                               host_config=HostConfig(network_mode="none"))
    with pytest.raises(ContainerError) as info:
        await docker.containers.run(body, ["sh", "-c", "echo boom >&2; exit 3"], remove=True)
    assert info.value.exit_code == 3
    assert info.value.stderr == b"boom\n"
    assert "exited with status 3: boom" in str(info.value)
    with pytest.raises(NotFound):
        await docker.containers.inspect(info.value.container_id)
    unchecked = await docker.containers.run(body, ["sh", "-c", "exit 4"], check=False,
                                            remove=True)
    assert unchecked.exit_code == 4


async def test_run_detached_returns_once_started(docker: Docker) -> None:
    body = ContainerCreateBody(image=TEST_IMAGE, cmd=["sleep", "300"], labels={TEST_LABEL: "1"},
                               host_config=HostConfig(network_mode="none"))
    result = await docker.containers.run(body, wait=False)
    try:
        assert result.exit_code is None and result.logs is None
        assert (await docker.containers.inspect(result.id)).state.running  # type: ignore[union-attr]
    finally:
        await docker.containers.remove(result.id, force=True)
    with pytest.raises(InvalidArgument, match="remove=True needs wait=True"):
        await docker.containers.run(body, wait=False, remove=True)


async def test_run_timeout_kills_and_removes(docker: Docker) -> None:
    name = f"ads-slow-{secrets.token_hex(4)}"
    with pytest.raises(DockerTimeoutError):
        await docker.containers.run(
            {"Image": TEST_IMAGE, "HostConfig": {"NetworkMode": "none"},
             "Labels": {TEST_LABEL: "1"}},
            ["sleep", "300"], name=name, remove=True, timeout=0.5,
        )
    with pytest.raises(NotFound):
        await docker.containers.inspect(name)


async def test_cancelled_run_still_removes_its_container(docker: Docker) -> None:
    name = f"ads-cancel-{secrets.token_hex(4)}"
    task = asyncio.create_task(docker.containers.run(
        {"Image": TEST_IMAGE, "HostConfig": {"NetworkMode": "none"},
         "Labels": {TEST_LABEL: "1"}},
        ["sleep", "300"], name=name, remove=True,
    ))
    for _ in range(100):
        await asyncio.sleep(0.05)
        listed = await docker.containers.list(filters={"name": name})
        if listed:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(NotFound):
        await docker.containers.inspect(name)


@pytest.mark.parametrize(
    "evil",
    [
        "../images/{image}",
        "..%2Fimages%2F{image}",
        "x/../../images/{image}",
        "images/{image}",
        "../../v1.41/images/{image}",
        "{image}?force=1",
        "{image}#frag",
    ],
)
async def test_path_parameters_cannot_reach_another_endpoint(
    docker: Docker, engine: EngineHandle, evil: str
) -> None:
    image = f"aiodockersock-test/victim:{secrets.token_hex(4)}"
    engine.cli("tag", TEST_IMAGE, image)
    try:
        with pytest.raises((InvalidArgument, NotFound, APIError)) as info:
            await docker.containers.remove(evil.format(image=image), force=True)
        if isinstance(info.value, APIError):
            assert info.value.status in (301, 404), info.value
        # the image is untouched, by the library's own judgement and the CLI's
        assert engine.cli("image", "inspect", image, check=False).returncode == 0
        for op in (docker.containers.inspect, docker.containers.start, docker.containers.kill):
            with pytest.raises((InvalidArgument, NotFound, APIError)):
                await op(evil.format(image=image))
        assert engine.cli("image", "inspect", image, check=False).returncode == 0
    finally:
        engine.cli("rmi", image, check=False)


@pytest.mark.parametrize("name", ["web?x=1", "web#top", "a/b", "50%"])
async def test_odd_names_are_sent_as_names(docker: Docker, name: str) -> None:
    with pytest.raises(NotFound) as info:
        await docker.containers.inspect(name)
    assert name in info.value.message or info.value.message == "page not found"


async def test_wait_for_running_then_exited(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "sleep 1"])

    async def start_later() -> None:
        await asyncio.sleep(0.3)
        await docker.containers.start(cid)

    starter = asyncio.create_task(start_later())
    running = await docker.containers.wait_for(cid, state="running", timeout=30)
    await starter
    assert running.state is not None and running.state.running
    exited = await docker.containers.wait_for(cid, state="exited", timeout=30)
    assert exited.state is not None and exited.state.exit_code == 0
    # already there: returns at once
    again = await docker.containers.wait_for(cid, state="exited", timeout=5)
    assert again.id == cid


SYSTEMD = Path("/run/systemd/private").exists()  # systemd runs this machine


async def run_health_checks(docker: Docker, cid: str) -> None:
    """Run a container's health check every 0.2 s, as Podman's systemd timers would."""
    while True:
        await docker._transport.request("GET", f"/libpod/containers/{cid}/healthcheck")
        await asyncio.sleep(0.2)


async def test_wait_for_healthy(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container(
        ["sh", "-c", "sleep 1; touch /tmp/ok; sleep 300"],
        Healthcheck={"Test": ["CMD-SHELL", "test -f /tmp/ok"], "Interval": 200_000_000,
                     "Timeout": 1_000_000_000, "Retries": 50},
    )
    await docker.containers.start(cid)
    started = time.monotonic()
    checker = None
    if engine.podman:
        # Podman runs health checks from systemd timers: without systemd none runs, and the
        # timeout says why
        if not SYSTEMD:
            with pytest.raises(WaitTimeout, match="Podman runs health checks from systemd"):
                await docker.containers.wait_for(cid, health="healthy", timeout=0.3)
        checker = asyncio.create_task(run_health_checks(docker, cid))
    try:
        info = await docker.containers.wait_for(cid, state="running", health="healthy",
                                                timeout=30)
    finally:
        if checker is not None:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
    assert info.state is not None and info.state.health is not None
    assert info.state.health.status == "healthy"
    assert time.monotonic() - started >= 0.8  # it really waited for the file


async def test_wait_for_gives_up_with_what_it_saw(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container()
    # 2 s: time for a first look even on a loaded machine (else "last seen: nothing yet")
    with pytest.raises(WaitTimeout, match=r"did not reach state 'running' within 2 s "
                                          r"\(last seen: state 'created'\)"):
        await docker.containers.wait_for(cid, state="running", timeout=2)


async def test_wait_for_running_fails_fast_when_the_container_dies(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "exit 2"])
    waiter = asyncio.create_task(
        docker.containers.wait_for(cid, health="healthy", timeout=30)
    )
    await asyncio.sleep(0.2)
    await docker.containers.start(cid)
    started = time.monotonic()
    with pytest.raises(ContainerError) as info:
        await waiter
    assert info.value.exit_code == 2
    assert time.monotonic() - started < 10


async def test_wait_for_a_removed_container_is_not_found(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container()
    waiter = asyncio.create_task(docker.containers.wait_for(cid, state="running", timeout=30))
    await asyncio.sleep(0.3)
    await docker.containers.remove(cid, force=True)
    with pytest.raises(NotFound, match="removed while waited for"):
        await waiter
    with pytest.raises(InvalidArgument, match="needs a state"):
        await docker.containers.wait_for(cid)
    with pytest.raises(InvalidArgument, match="state must be one of"):
        await docker.containers.wait_for(cid, state="up")


async def next_change(watch: ContainerWatch, timeout: float = 20) -> ContainerChange:
    return await asyncio.wait_for(watch.__anext__(), timeout)


async def test_watch_lists_then_follows_each_change_once(
    docker: Docker, make_container: ContainerFactory
) -> None:
    tag = secrets.token_hex(4)
    labels = {TEST_LABEL: "1", "watch": tag}
    existing = await make_container(Labels=labels)
    async with docker.containers.watch(label=f"watch={tag}") as watch:
        first = await next_change(watch)
        assert (first.kind, first.id, first.action) == ("added", existing, None)
        assert watch.get(existing) is not None and watch.get(existing[:12]) is not None

        new = await make_container(["sleep", "301"], Labels=labels)
        change = await next_change(watch)
        assert (change.kind, change.id, change.action) == ("added", new, "create")
        assert change.container.state == "created"

        await docker.containers.start(new)
        change = await next_change(watch)
        assert (change.kind, change.id) == ("updated", new)
        assert change.container.state == "running"
        assert watch.get(new).state == "running"  # type: ignore[union-attr]

        await docker.containers.kill(new)
        change = await next_change(watch)
        assert (change.kind, change.container.state) == ("updated", "exited")

        await docker.containers.remove(new)
        change = await next_change(watch)
        assert (change.kind, change.id) == ("removed", new)  # once: the destroy adds nothing
        assert watch.get(new) is None
        assert [c.id for c in watch.containers] == [existing]

        # a container without the label is not watched
        other = await make_container()
        await docker.containers.remove(other, force=True)
        await docker.containers.remove(existing, force=True)
        change = await next_change(watch)
        assert (change.kind, change.id) == ("removed", existing)
        assert watch.containers == []


@pytest.mark.podman
async def test_stop_and_restart_wait_out_the_containers_own_stop_timeout(
    make_container: ContainerFactory, engine: EngineHandle
) -> None:
    """Without ``timeout=``, the daemon waits the container's StopTimeout (here 4 s, for a
    process that ignores SIGTERM) before it kills: the call must wait that long, however short
    the client's request timeout (2 s here), instead of failing while the stop goes on."""
    cid = await make_container(["sh", "-c", "trap '' TERM; while true; do sleep 1; done"],
                               StopTimeout=4)
    async with Docker(engine.host, timeout=2) as docker:
        await docker.containers.start(cid)
        started = time.monotonic()
        assert await docker.containers.stop(cid) is True
        assert time.monotonic() - started > 3  # it did wait for the SIGKILL
        state = (await docker.containers.inspect(cid)).state
        assert state is not None and not state.running
        await docker.containers.start(cid)
        await docker.containers.restart(cid)
        state = (await docker.containers.inspect(cid)).state
        assert state is not None and state.running
        await docker.containers.kill(cid)


@pytest.mark.podman
async def test_timestamped_lines_longer_than_16k_come_whole(
    docker: Docker, make_container: ContainerFactory
) -> None:
    """dockerd stores a line longer than 16 KiB in pieces, and with timestamps=True sends each
    piece with its own timestamp: the line comes out whole, stamped once, with no timestamp
    left inside it."""
    cid = await make_container(
        ["sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo; echo short; echo warn >&2"]
    )
    await docker.containers.start(cid)
    await docker.containers.wait(cid)
    lines = [x async for x in docker.containers.logs(cid, timestamps=True).lines()]
    out = [x for x in lines if x.stream == "stdout"]
    assert [x.text for x in out] == ["x" * 40000, "short"]
    assert [x.text for x in lines if x.stream == "stderr"] == ["warn"]
    for line in lines:
        assert line.timestamp is not None and line.timestamp[:2] == "20"  # an RFC 3339 date


@pytest.mark.podman
async def test_logs_since_and_until_take_the_time_forms_events_take(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cid = await make_container(["sh", "-c", "echo one; sleep 2; echo two"])
    await docker.containers.start(cid)
    await asyncio.sleep(1)
    middle = datetime.now(timezone.utc)
    await docker.containers.wait(cid)

    async def texts(**kwargs: Any) -> list[str]:
        return [x.text async for x in docker.containers.logs(cid, **kwargs).lines()]

    assert await texts(since=middle) == ["two"]
    assert await texts(until=middle) == ["one"]
    assert await texts(since=middle.timestamp()) == ["two"]  # seconds, as before
    assert await texts(since=timedelta(minutes=-10)) == ["one", "two"]
    assert await texts(since="10m") == ["one", "two"]
    assert await texts(since=middle.isoformat()) == ["two"]
    with pytest.raises(InvalidArgument, match="not a point in time"):
        await texts(since="yesterday")


# -- archives compared with docker cp: the same container, the CLI into one place, the library
# -- into another, and the results side by side


def _local_tree(root: Path) -> dict[str, tuple[str, int, int, str]]:
    """Each path under ``root``: (kind and permissions, uid, gid, link target)."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        link = os.readlink(path) if path.is_symlink() else ""
        out[str(path.relative_to(root))] = (stat.filemode(st.st_mode), st.st_uid, st.st_gid, link)
    return out


def _container_tree(engine: EngineHandle, cid: str, root: str) -> list[str]:
    """Each path under ``root`` in the container: name, kind and permissions, size, content."""
    script = (f'cd {root} && find . | sort | while read -r p; do '
              'if [ -f "$p" ]; then c=$(cat "$p"); else c=-; fi; '
              'echo "$p $(stat -c "%A %s" "$p" | sed "s/ [0-9]*$//;s/^d/D/") $c"; done')
    return engine.cli("exec", cid, "sh", "-c", script).stdout.splitlines()


async def test_copy_from_refuses_a_symlink_out_of_the_destination_like_docker_cp(
    docker: Docker, make_container: ContainerFactory, tmp_path: Path, engine: EngineHandle
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    engine.cli("exec", cid, "sh", "-c", "mkdir -p /tmp/evil /tmp/fine && echo x > /tmp/evil/f && "
               "ln -s ../../outside /tmp/evil/up && ln -s /etc/passwd /tmp/fine/abs && "
               "ln -s ../fine /tmp/fine/in")
    (tmp_path / "cli").mkdir()
    refused = engine.cli("cp", f"{cid}:/tmp/evil", str(tmp_path / "cli"), check=False)
    assert refused.returncode != 0 and "invalid symlink" in refused.stderr
    with pytest.raises(InvalidArgument, match=r"invalid symlink.*'evil/up' -> '\.\./\.\./outside'"):
        await docker.containers.copy_from(cid, "/tmp/evil", tmp_path / "lib")
    assert not (tmp_path / "cli" / "evil" / "up").is_symlink()
    assert not (tmp_path / "lib" / "evil" / "up").is_symlink()
    # links inside, and absolute ones, are kept as they are by both
    engine.cli("cp", f"{cid}:/tmp/fine", str(tmp_path / "cli"))
    await docker.containers.copy_from(cid, "/tmp/fine", tmp_path / "lib")
    assert _local_tree(tmp_path / "lib") == _local_tree(tmp_path / "cli")
    assert os.readlink(tmp_path / "lib" / "fine" / "abs") == "/etc/passwd"


async def test_copy_from_restores_owners_and_setuid_only_when_asked(
    docker: Docker, make_container: ContainerFactory, tmp_path: Path, engine: EngineHandle
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    engine.cli("exec", cid, "sh", "-c", "mkdir /tmp/d && echo s > /tmp/d/s && "
               "chown 1234:4321 /tmp/d/s && chmod 6755 /tmp/d/s")
    (tmp_path / "cli").mkdir()
    engine.cli("cp", f"{cid}:/tmp/d", str(tmp_path / "cli"))
    await docker.containers.copy_from(cid, "/tmp/d", tmp_path / "lib")
    cli, lib = _local_tree(tmp_path / "cli")["d/s"], _local_tree(tmp_path / "lib")["d/s"]
    me = (os.getuid(), os.getgid())
    assert cli[1:3] == lib[1:3] == me  # the owner is the caller's with both
    # docker cp keeps the setuid and setgid bits, on a file that is now the caller's (root's
    # here): the library drops them unless asked
    assert cli[0] == "-rwsr-sr-x" and lib[0] == "-rwxr-xr-x"
    await docker.containers.copy_from(cid, "/tmp/d", tmp_path / "kept", copy_uid_gid=True,
                                      keep_setuid=True)
    with tarfile.open(fileobj=io.BytesIO(await docker.containers.get_archive(cid, "/tmp/d/s")
                                         .read())) as tar:
        owner = (tar.getmember("s").uid, tar.getmember("s").gid)
    assert owner == ((0, 0) if engine.podman else (1234, 4321))  # Podman's archive says root
    assert _local_tree(tmp_path / "kept")["d/s"][:3] == ("-rwsr-sr-x", *owner)


async def test_copy_from_refuses_devices_and_fifos_unless_asked(
    docker: Docker, make_container: ContainerFactory, tmp_path: Path, engine: EngineHandle
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    engine.cli("exec", cid, "sh", "-c", "mkdir /tmp/s && mkfifo /tmp/s/fifo && "
               "mknod /tmp/s/null c 1 3 && echo f > /tmp/s/f")
    with pytest.raises(InvalidArgument, match=r"'s/(fifo|null)' is a (FIFO|character device)"):
        await docker.containers.copy_from(cid, "/tmp/s", tmp_path / "refused")
    await docker.containers.copy_from(cid, "/tmp/s", tmp_path / "skipped", special_files="skip")
    assert set(_local_tree(tmp_path / "skipped")) == {"s", "s/f"}
    # docker cp creates them; so does the library when asked
    (tmp_path / "cli").mkdir()
    engine.cli("cp", f"{cid}:/tmp/s", str(tmp_path / "cli"))
    await docker.containers.copy_from(cid, "/tmp/s", tmp_path / "lib", special_files="create")
    kinds = {name: kind[0] for name, (kind, *_rest) in _local_tree(tmp_path / "lib").items()}
    assert kinds == {"s": "d", "s/f": "-", "s/fifo": "p", "s/null": "c"}
    assert kinds == {name: kind[0] for name, (kind, *_r) in _local_tree(tmp_path / "cli").items()}


async def test_copy_from_a_directory_s_contents(
    docker: Docker, make_container: ContainerFactory, tmp_path: Path, engine: EngineHandle
) -> None:
    cid = await make_container()
    await docker.containers.start(cid)
    engine.cli("exec", cid, "sh", "-c", "mkdir -p /tmp/d/sub && chmod 700 /tmp/d && "
               "echo a > /tmp/d/a && echo b > /tmp/d/sub/b")
    for where in ("cli", "lib"):
        (tmp_path / where).mkdir(mode=0o755)
    engine.cli("cp", f"{cid}:/tmp/d/.", str(tmp_path / "cli"))
    await docker.containers.copy_from(cid, "/tmp/d/.", tmp_path / "lib")
    assert _local_tree(tmp_path / "lib") == _local_tree(tmp_path / "cli")
    assert set(_local_tree(tmp_path / "lib")) == {"a", "sub", "sub/b"}
    assert stat.S_IMODE((tmp_path / "lib").stat().st_mode) == 0o755  # left alone, as by the CLI


async def test_copy_to_places_files_as_docker_cp_does(
    docker: Docker, make_container: ContainerFactory, tmp_path: Path, engine: EngineHandle
) -> None:
    src = tmp_path / "dir"
    (src / "sub").mkdir(parents=True)
    (src / "a").write_text("a")
    (src / "sub" / "b").write_text("b")
    src.chmod(0o700)
    cid = await make_container()
    await docker.containers.start(cid)
    engine.cli("exec", cid, "sh", "-c", "for r in /cli /lib; do mkdir -p $r/into && "
               "chmod 1777 $r/into && echo old > $r/file; done")
    cases = [
        (f"{src}/.", "into"),          # what is in the directory, into an existing one
        (f"{src}/.", "made"),          # ... into a new directory
        (str(src), "into"),            # the directory into an existing one
        (str(src), "new"),             # ... created under the destination's name
        (str(src / "a"), "renamed"),   # a file written under the destination's name
        (str(src / "a"), "file"),      # a file replacing a file
        (str(src / "a"), "into/"),     # a file into a directory
    ]
    for local, dest in cases:
        engine.cli("cp", local, f"{cid}:/cli/{dest}")
        await docker.containers.copy_to(cid, local, f"/lib/{dest}")
    tree = _container_tree(engine, cid, "/lib")
    cli = _container_tree(engine, cid, "/cli")
    if engine.podman:  # Podman's service gives /into the mode of dir (the archive's "." entry)
        cli = [line.replace("./into Drwx------", "./into Drwxrwxrwt") for line in cli]
    assert tree == cli
    assert "./into Drwxrwxrwt -" in tree  # the contents' top directory left /into alone
    assert {"./into/a -rw-r--r-- a", "./made Drwx------ -", "./new/sub/b -rw-r--r-- b",
            "./renamed -rw-r--r-- a", "./file -rw-r--r-- a"} <= set(tree)
    # what both refuse
    refused: list[tuple[str, str, type[Exception], str]] = [
        (str(src), "file", InvalidArgument, "is a file, not a directory"),
        (str(src / "a"), "nodir/", NotFound, "no such directory"),
        (str(src), "nope/x", NotFound, "/nope"),
        (f"{src / 'a'}/.", "into", InvalidArgument, "not a directory"),
    ]
    for local, dest, error, message in refused:
        cli_copy = engine.cli("cp", local, f"{cid}:/cli/{dest}", check=False)
        # Podman's service creates a missing parent; dockerd, and the library, do not
        assert (cli_copy.returncode != 0) is not (engine.podman and dest == "nope/x")
        with pytest.raises(error, match=message):
            await docker.containers.copy_to(cid, local, f"/lib/{dest}")
    assert _container_tree(engine, cid, "/lib") == tree


async def test_copy_to_refuses_fifos_and_sockets_unless_asked(
    docker: Docker, make_container: ContainerFactory, tmp_path: Path, engine: EngineHandle
) -> None:
    src = tmp_path / "s"
    src.mkdir()
    (src / "f").write_text("f")
    os.mkfifo(src / "fifo")
    cid = await make_container()
    await docker.containers.start(cid)
    with pytest.raises(InvalidArgument, match=r"fifo: it is a FIFO; pass special_files="):
        await docker.containers.copy_to(cid, src, "/tmp")
    await docker.containers.copy_to(cid, src, "/tmp/skipped", special_files="skip")
    await docker.containers.copy_to(cid, src, "/tmp/made", special_files="create")
    listing = engine.cli("exec", cid, "ls", "-l", "/tmp/skipped", "/tmp/made").stdout
    assert listing.count(" f\n") == 2 and listing.count("fifo") == 1
    with pytest.raises(InvalidArgument, match="special_files must be"):
        await docker.containers.copy_to(cid, src, "/tmp", special_files="yes")  # type: ignore[arg-type]
    (src / "fifo").unlink()
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(src / "sock"))
        with pytest.raises(InvalidArgument, match=r"sock: it is a socket; sockets cannot be"):
            await docker.containers.copy_to(cid, src, "/tmp/sock", special_files="create")
        await docker.containers.copy_to(cid, src, "/tmp/nosock", special_files="skip")
    assert engine.cli("exec", cid, "ls", "/tmp/nosock").stdout.split() == ["f"]


async def test_commit_makes_an_image_of_the_filesystem_and_settings(
    docker: Docker, make_container: ContainerFactory, engine: EngineHandle
) -> None:
    cid = await make_container(["sh", "-c", "echo committed > /marker"])
    await docker.containers.start(cid)
    await docker.containers.wait(cid)
    repo = f"ads-commit-{secrets.token_hex(4)}"
    made = await docker.containers.commit(
        cid, repo, "v1", message="from a test", author="ads <ads@example.com>",
        changes=["ENV MODE=prod", 'CMD ["cat", "/marker"]'],
    )
    try:
        assert made.id is not None and made.id.startswith("sha256:")
        image = await docker.images.inspect(f"{repo}:v1")
        assert image.id == made.id
        assert (image.author, image.comment) == ("ads <ads@example.com>", "from a test")
        assert image.config is not None and "MODE=prod" in (image.config.env or [])
        assert image.config.cmd == ["cat", "/marker"]
        # the container's filesystem is in the image: a container of it prints the file
        result = await docker.containers.run(f"{repo}:v1", remove=True)
        assert result.stdout == b"committed\n"
        # the Docker CLI reads the same image (a cross-check of what the daemon stored)
        if not engine.podman:
            shown = engine.cli("image", "inspect", "-f", "{{.Author}}|{{.Comment}}", f"{repo}:v1")
            assert shown.stdout.strip() == "ads <ads@example.com>|from a test"
    finally:
        await docker.images.remove(made.id or f"{repo}:v1", force=True)


async def test_commit_refuses_what_it_cannot_do(docker: Docker) -> None:
    with pytest.raises(InvalidArgument, match="without a repository"):
        await docker.containers.commit("anything", tag="v1")
    with pytest.raises(InvalidArgument, match="list of strings"):
        await docker.containers.commit("anything", "repo", changes="ENV A=b")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await docker.containers.commit("ads-no-such-container", "ads-never")
