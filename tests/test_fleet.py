"""Many containers at once (aiodockersock/_many.py): the live stats table, its one-shot form,
and the merged followed logs, against the real engines, Podman too (membership follows
``/events`` through ``containers.watch()``).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

from aiodockersock import (
    Docker,
    InvalidArgument,
    Limits,
    MergedLogs,
    StatsTable,
    StatsUpdate,
    SubscriberTooSlow,
    TaggedLogLine,
)

from .conftest import TEST_LABEL, ContainerFactory, EngineHandle

pytestmark = [pytest.mark.engine, pytest.mark.podman]

T = TypeVar("T")


def tagged() -> tuple[str, dict[str, str]]:
    """A fresh label (``fleet=<tag>``) and the labels a test container gets with it."""
    tag = secrets.token_hex(4)
    return f"fleet={tag}", {TEST_LABEL: "1", "fleet": tag}


async def until(
    stream: AsyncIterator[T], done: Callable[[T], bool], timeout: float = 30
) -> list[T]:
    """Read ``stream`` until an item satisfies ``done``; every item read, that one last."""
    seen: list[T] = []

    async def read() -> None:
        async for item in stream:
            seen.append(item)
            if done(item):
                return
        raise AssertionError(f"the stream ended first; read {seen!r}")

    await asyncio.wait_for(read(), timeout)
    return seen


async def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    """Wait until ``check()`` holds (polled)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def open_sockets() -> int:
    """How many sockets this process has open (a leaked stream keeps one)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


async def run(make: ContainerFactory, docker: Docker, cmd: list[str], **extra: Any) -> str:
    cid = await make(cmd, **extra)
    await docker.containers.start(cid)
    return cid


# -- the live stats table ---------------------------------------------------------------------


async def test_stats_table_containers_join_and_leave_as_they_start_and_stop(
    docker: Docker, make_container: ContainerFactory
) -> None:
    label, labels = tagged()
    first = await run(make_container, docker, ["sleep", "300"], Labels=labels)
    second = await run(make_container, docker, ["sleep", "300"], Labels=labels)
    stopped = await make_container(["sleep", "300"], Labels=labels)  # never started: not in it
    async with docker.containers.stats_all(label=label) as table:
        assert isinstance(table, StatsTable)
        # the running ones are rows at once; their samples come as they are taken
        assert {r.id for r in table.rows} == {first, second}
        assert table.members.keys() == {first, second}
        await until(table, lambda u: all(r.stats is not None for r in table.rows))
        for row in table.rows:
            assert row.stats is not None and row.stats.memory_usage > 0 and row.stats.pids == 1
            assert row.name.startswith("ads-") and row.image

        # one that starts later joins, and its samples come
        await docker.containers.start(stopped)
        updates = await until(table, lambda u: u.kind == "sample" and u.id == stopped)
        assert [u.kind for u in updates if u.id == stopped] == ["joined", "sample"]
        assert {r.id for r in table.rows} == {first, second, stopped}
        assert (await docker.ping()).api_version  # requests are answered meanwhile

        # one that stops leaves, one that is removed leaves; the other goes on
        await docker.containers.kill(first)
        left = (await until(table, lambda u: u.kind == "left"))[-1]
        assert (left.id, left.reason) == (first, "exited")
        await docker.containers.remove(second, force=True)
        left = (await until(table, lambda u: u.kind == "left"))[-1]
        assert left.id == second and left.reason in ("exited", "removed")  # killed, then gone
        assert [r.id for r in table.rows] == [stopped]
        sample = (await until(table, lambda u: u.kind == "sample"))[-1]
        assert sample.id == stopped and sample.stats is not None
        assert table.dropped == 0
    assert table.closed and table.members == {}


async def test_stats_table_one_shot_samples_every_container_at_once(
    docker: Docker, make_container: ContainerFactory
) -> None:
    label, labels = tagged()
    ids = await asyncio.gather(*(
        run(make_container, docker, ["sleep", "300"], Labels=labels) for _ in range(12)))
    started = time.monotonic()
    await docker.containers.stats(ids[0])
    one = time.monotonic() - started

    started = time.monotonic()
    rows = await docker.containers.stats_all(label=label)
    took = time.monotonic() - started
    assert sorted(r.id for r in rows) == sorted(ids)
    assert [r.name for r in rows] == sorted(r.name for r in rows)
    for row in rows:
        assert row.stats is not None and row.stats.id == row.id
        assert row.stats.memory_usage > 0 and row.stats.precpu_stats is not None
    # twelve samples take about as long as one (a sample waits for the daemon's next
    # reading, up to two seconds), not twelve times as long
    assert took < max(one, 1.0) * 3, (took, one)


async def test_stats_table_slow_consumer_policies(
    docker: Docker, make_container: ContainerFactory
) -> None:
    label, labels = tagged()
    for _ in range(3):
        await run(make_container, docker, ["sleep", "300"], Labels=labels)
    # drop_oldest: a consumer that does not read loses the oldest updates, counted; the rows
    # stay current all the same
    async with docker.containers.stats_all(label=label, maxsize=2) as table:
        assert table.policy == "drop_oldest"
        # 3 joins and a sample of each into a buffer of 2 (samples come every second on
        # Docker, every 5 s on Podman): the oldest dropped, the rows current all the same
        await eventually(lambda: all(r.stats is not None for r in table.rows), timeout=15)
        assert table.buffered == 2 and table.dropped >= 4
        newest: list[StatsUpdate] = [await table.__anext__(), await table.__anext__()]
        assert all(u.kind == "sample" for u in newest)
    # disconnect: the consumer gets what was buffered, then SubscriberTooSlow
    async with docker.containers.stats_all(label=label, maxsize=2, policy="disconnect") as table:
        await asyncio.sleep(2.5)
        got = []
        with pytest.raises(SubscriberTooSlow, match="fell 2 items behind"):
            async for update in table:
                got.append(update)
        assert len(got) == 2
    with pytest.raises(InvalidArgument, match="policy must be"):
        docker.containers.stats_all(policy="fast")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="maxsize must be an int of at least 1"):
        docker.containers.logs_all(maxsize=0)


# -- the merged logs -------------------------------------------------------------------------

SAY = "echo out-$N; echo err-$N >&2"


async def test_merged_logs_tag_each_line_and_follow_joining_and_leaving_containers(
    docker: Docker, make_container: ContainerFactory
) -> None:
    label, labels = tagged()
    go = "while [ ! -e /tmp/go ]; do sleep 0.05; done"
    a = await run(make_container, docker, ["sh", "-c", f"{SAY}; {go}; echo bye-$N"],
                  Labels=labels, Env=["N=a"])
    b = await run(make_container, docker, ["sh", "-c", f"{SAY}; sleep 300"],
                  Labels=labels, Env=["N=b"])
    # ran once before the stream starts, and is started again later: only its new run is shown
    again = await make_container(["sh", "-c", f"{SAY}; sleep 3"], Labels=labels,
                                 Env=["N=again"])
    await docker.containers.start(again)
    await docker.containers.wait(again)
    late = await make_container(["sh", "-c", f"{SAY}; sleep 300"], Labels=labels, Env=["N=late"])
    name = {cid: (await docker.containers.inspect(cid)).name.lstrip("/")  # type: ignore[union-attr]
            for cid in (a, b, again, late)}

    async with docker.containers.logs_all(label=label) as logs:
        assert isinstance(logs, MergedLogs)
        count = iter(range(1, 5))
        lines = await until(logs, lambda _: next(count) == 4)
        assert logs.members.keys() == {a, b}
        assert all(isinstance(x, TaggedLogLine) for x in lines)
        expected = {(a, name[a], "stdout", "out-a"), (a, name[a], "stderr", "err-a"),
                    (b, name[b], "stdout", "out-b"), (b, name[b], "stderr", "err-b")}
        assert {(x.id, x.name, x.stream, x.text) for x in lines} == expected

        # a container that starts later joins, from the start of its run
        await docker.containers.start(late)
        await docker.containers.start(again)
        want = {"out-late", "err-late", "out-again", "err-again"}
        texts: set[str] = set()

        def all_seen(line: TaggedLogLine) -> bool:
            texts.add(line.text)
            return want <= texts

        got = await until(logs, all_seen)
        assert {(x.id, x.text) for x in got} == {
            (late, "out-late"), (late, "err-late"), (again, "out-again"), (again, "err-again")}
        assert all(x.name == name[x.id] for x in got)

        # one that stops leaves, after its last line
        assert (await docker.execs.run(a, ["touch", "/tmp/go"])).exit_code == 0
        last = await until(logs, lambda x: x.text == "bye-a")
        assert last[-1].id == a and last[-1].stream == "stdout"
        await eventually(lambda: a not in logs.members)
        assert {b, late} <= logs.members.keys() <= {b, late, again}  # again: sleeps 3 s
        assert logs.failures == {} and logs.dropped == 0



async def test_merged_logs_one_failing_stream_does_not_end_them(
    docker: Docker, make_container: ContainerFactory
) -> None:
    label, labels = tagged()
    ok = await run(make_container, docker, ["sh", "-c", f"{SAY}; sleep 300"], Labels=labels,
                   Env=["N=ok"])
    # its logs cannot be read (logging driver "none"): it leaves, with the reason
    mute = await run(make_container, docker, ["sh", "-c", f"{SAY}; sleep 300"], Labels=labels,
                     Env=["N=mute"], HostConfig={"NetworkMode": "none",
                                                 "LogConfig": {"Type": "none"}})
    async with docker.containers.logs_all(label=label) as logs:
        count = iter(range(1, 3))
        got = await until(logs, lambda _: next(count) == 2)
        assert {(x.id, x.text) for x in got} == {(ok, "out-ok"), (ok, "err-ok")}
        await eventually(lambda: mute in logs.failures)
        # the daemon's reason: Docker's "does not support reading", Podman's "cannot read logs"
        assert re.search("does not support reading|cannot read logs", str(logs.failures[mute]))
        assert logs.members.keys() == {ok}
        assert (await docker.ping()).api_version


async def test_merged_logs_slow_consumer_policies(
    docker: Docker, make_container: ContainerFactory
) -> None:
    label, labels = tagged()
    burst = "seq 1 300; sleep 300"
    await run(make_container, docker, ["sh", "-c", burst], Labels=labels)
    # wait (the default): nothing is lost, the container's stream waits for room
    async with docker.containers.logs_all(label=label, maxsize=4) as logs:
        assert logs.policy == "wait"
        await asyncio.sleep(1)
        assert logs.buffered == 4
        lines = await until(logs, lambda x: x.text == "300")
        assert [x.text for x in lines] == [str(n) for n in range(1, 301)]
        assert logs.dropped == 0
    # drop_oldest: the newest lines are kept; the dropped ones are counted
    async with docker.containers.logs_all(label=label, maxsize=4, policy="drop_oldest") as logs:
        await asyncio.sleep(1)
        assert logs.dropped == 296
        assert [(await logs.__anext__()).text for _ in range(4)] == ["297", "298", "299", "300"]
    # disconnect: what was buffered, then SubscriberTooSlow
    async with docker.containers.logs_all(label=label, maxsize=4, policy="disconnect") as logs:
        await asyncio.sleep(1)
        texts = []
        with pytest.raises(SubscriberTooSlow, match="fell 4 items behind"):
            async for line in logs:
                texts.append(line.text)
        assert texts == ["1", "2", "3", "4"]


async def test_closing_closes_every_containers_stream(
    docker: Docker, engine: EngineHandle, make_container: ContainerFactory
) -> None:
    label, labels = tagged()
    ids = await asyncio.gather(*(
        run(make_container, docker, ["sh", "-c", "while true; do echo tick; sleep 0.2; done"],
            Labels=labels) for _ in range(6)))
    fleet: Any = None
    for kind in ("logs", "stats"):
        # its own connections, none pooled yet; streams counted (a cap far above the need)
        async with Docker(engine.host, limits=Limits(streams=10_000)) as client:
            before = open_sockets()
            fleet = (client.containers.logs_all(label=label, tail=0) if kind == "logs"
                     else client.containers.stats_all(label=label))
            async with fleet:
                await until(fleet, lambda _: True)
                # a stream per container and the watch's event stream, all open at once
                want = before + len(ids) + 1
                await eventually(lambda: open_sockets() >= want)  # noqa: B023 (awaited here)
            assert fleet.closed and fleet.members == {}
            # every stream was closed (a stream left open keeps its count, and its socket);
            # the watch's listings and looks may leave idle request connections in the pool,
            # as ordinary requests do: those go with the client
            assert client._transport.open_streams == 0, kind
        assert open_sockets() <= before, kind
    # iterating after close says so
    with pytest.raises(Exception, match="closed"):
        await fleet.__anext__()
