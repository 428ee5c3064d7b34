"""Many live streams on one client against a real engine (issue 11): more followed log streams
than any fixed connection pool of the past (aiohttp's 100), with requests answered meanwhile.

Timings are measured by ``benchmarks/bench_scale.py``; these tests assert behaviour only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from aiodockersock import Docker, LogStream
from aiodockersock.models import LogFrame

from .conftest import ContainerFactory

pytestmark = [pytest.mark.engine]

T = TypeVar("T")

STREAMS = 320  # more than the 100 connections of the pool that followed streams once exhausted
CONTAINERS = 4
# a line twice a second, numbered, so a frame can be told from any other output
PRINTER = "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.5; done"
# a guard against hanging forever (not a timing assertion): far more than a healthy run needs
GUARD = 120


async def test_320_followed_log_streams_on_one_client_and_requests_still_answered(
    docker: Docker, make_container: ContainerFactory
) -> None:
    cids = [await make_container(["sh", "-c", PRINTER]) for _ in range(CONTAINERS)]
    for cid in cids:
        assert await docker.containers.start(cid)

    streams: list[LogStream] = []
    first: dict[int, LogFrame] = {}
    got_all = asyncio.Event()
    behind: set[int] = set()  # streams yet to receive a frame after the requests
    moved_on = asyncio.Event()
    stop = asyncio.Event()

    async def follow(i: int, cid: str) -> None:
        stream = docker.containers.logs(cid, follow=True, tail=0)
        streams.append(stream)
        async with stream:
            async for frame in stream:  # read on, as a log shipper does, until told to stop
                if i not in first:
                    first[i] = frame
                    if len(first) == STREAMS:
                        got_all.set()
                if i in behind:
                    behind.discard(i)
                    if not behind:
                        moved_on.set()
                if stop.is_set():
                    break

    async def guarded(aw: Awaitable[T]) -> T:
        """``aw``, or the error of the first stream task that failed, or a guard timeout."""
        waiter = asyncio.ensure_future(aw)
        try:
            await asyncio.wait([waiter, *tasks], timeout=GUARD,
                               return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:  # a stream that failed to open ends its task with the error
                if task.done():
                    task.result()
            assert waiter.done(), f"{len(first)} of {STREAMS} streams got a frame"
            return waiter.result()
        finally:
            waiter.cancel()

    tasks = [asyncio.create_task(follow(i, cids[i % CONTAINERS])) for i in range(STREAMS)]
    try:
        await guarded(got_all.wait())

        # every stream got a frame of its own container's output
        for frame in first.values():
            assert frame.stream == "stdout"
            assert frame.data.startswith(b"tick ") and frame.data.endswith(b"\n"), frame
        assert len(streams) == STREAMS and not any(s.closed for s in streams)

        # while all of them are open, ordinary requests are answered
        ping = await guarded(docker.ping())
        assert ping.api_version
        for cid in cids:
            info = await guarded(docker.containers.inspect(cid))
            assert info.id == cid
            assert info.state is not None and info.state.running

        # and every stream goes on receiving frames
        behind.update(range(STREAMS))
        await guarded(moved_on.wait())
        assert not any(s.closed for s in streams)
    finally:
        stop.set()  # each task ends at its stream's next frame (within half a second)
        await asyncio.wait(tasks, timeout=GUARD)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # every task ended by itself and every stream is closed (nothing left to warn about)
    assert all(task.exception() is None for task in tasks if not task.cancelled())
    assert not any(task.cancelled() for task in tasks)
    assert all(s.closed for s in streams)
