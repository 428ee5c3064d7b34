"""Fan-out of one event stream to many consumers (aiodockersock/_hub.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from aiodockersock import (
    Docker,
    EventsLost,
    InvalidArgument,
    ReconnectPolicy,
    StreamClosed,
    SubscriberTooSlow,
)
from aiodockersock.models import EventGap, EventMessage

from .conftest import TEST_IMAGE, EngineHandle
from .fake_daemon import FakeDaemon, Plan, encode, make_event

pytestmark = pytest.mark.podman  # the engine-backed tests run on Podman too

FAST = ReconnectPolicy(attempts=5, initial_delay=0.01, max_delay=0.05)


def num(ev: object) -> int:
    assert isinstance(ev, EventMessage) and ev.actor_id is not None
    return int(ev.actor_id, 16)


async def drain(sub: AsyncIterator[object], n: int, *, delay: float = 0.0) -> list[object]:
    out: list[object] = []
    async for item in sub:
        out.append(item)
        if delay:
            await asyncio.sleep(delay)
        if len(out) == n:
            break
    return out


async def test_one_connection_feeds_every_subscriber(fake: FakeDaemon) -> None:
    async with Docker(fake.host) as docker, docker.events.hub(reconnect=FAST) as hub:
        async with hub.subscribe() as a, hub.subscribe() as b, hub.subscribe() as c:
            assert hub.subscribers == 3
            await fake.publish(*(make_event(n) for n in range(1, 101)))
            results = await asyncio.wait_for(
                asyncio.gather(drain(a, 100), drain(b, 100), drain(c, 100)), 10
            )
    for got in results:
        assert [num(e) for e in got] == list(range(1, 101))
    assert len(fake.connections) == 1


async def test_last_leaver_closes_the_connection_and_a_new_one_reopens(fake: FakeDaemon) -> None:
    async with Docker(fake.host) as docker, docker.events.hub(reconnect=FAST) as hub:
        async with hub.subscribe() as a:
            await fake.publish(make_event(1))
            assert [num(e) for e in await drain(a, 1)] == [1]
            async with hub.subscribe() as b:
                await fake.publish(make_event(2))
                assert [num(e) for e in await drain(b, 1)] == [2]
            assert not fake.connections[0].closed.is_set()  # a is still there
        await asyncio.wait_for(fake.connections[0].closed.wait(), 2)
        assert hub.subscribers == 0 and hub.stream is None
        async with hub.subscribe() as late:
            await fake.publish(make_event(3))
            assert [num(e) for e in await drain(late, 1)] == [3]
        assert len(fake.connections) == 2
    with pytest.raises(StreamClosed):
        async with hub.subscribe():
            pass


async def test_drop_oldest_keeps_the_newest_and_counts(fake: FakeDaemon) -> None:
    async with Docker(fake.host) as docker, docker.events.hub(reconnect=FAST) as hub:
        async with hub.subscribe(maxsize=5, policy="drop_oldest") as slow, \
                hub.subscribe(maxsize=1000) as fast:
            await fake.publish(*(make_event(n) for n in range(1, 51)))
            got_fast = await asyncio.wait_for(drain(fast, 50), 10)
            await asyncio.sleep(0.1)
            assert slow.buffered == 5
            got_slow = await drain(slow, 5)
    assert [num(e) for e in got_fast] == list(range(1, 51))
    assert [num(e) for e in got_slow] == [46, 47, 48, 49, 50]
    assert slow.dropped == 45


async def test_disconnect_cuts_off_only_the_slow_subscriber(fake: FakeDaemon) -> None:
    async with Docker(fake.host) as docker, docker.events.hub(reconnect=FAST) as hub:
        async with hub.subscribe(maxsize=3, policy="disconnect") as slow, \
                hub.subscribe(maxsize=1000) as fast:
            await fake.publish(*(make_event(n) for n in range(1, 21)))
            assert [num(e) for e in await asyncio.wait_for(drain(fast, 20), 10)] == list(
                range(1, 21))
            got = []
            with pytest.raises(SubscriberTooSlow, match="fell 3 events behind"):
                async for ev in slow:
                    got.append(num(ev))
            assert got == [1, 2, 3]
            await fake.publish(make_event(21))
            assert [num(e) for e in await drain(fast, 1)] == [21]


async def test_wait_policy_stall_with_a_small_backlog_reports_nothing(fake: FakeDaemon) -> None:
    async with Docker(fake.host) as docker:
        async with docker.events.hub(reconnect=FAST, stall_limit=0.05) as hub:
            async with hub.subscribe(maxsize=2, policy="wait") as sub:
                await fake.publish(*(make_event(n) for n in range(1, 31)))
                got = await asyncio.wait_for(drain(sub, 30, delay=0.08), 20)
                stats = hub.stream.stats if hub.stream is not None else None
    assert [num(e) for e in got] == list(range(1, 31))  # every event once, in order
    assert hub.stalls >= 1  # the consumer did hold the reader up …
    # … but the socket never filled, so dockerd cannot have dropped anything: no notice
    assert stats is not None and stats.gaps == 0
    assert len(fake.connections) == 1


async def stall_then_drain(
    fake: FakeDaemon, hub_sub: AsyncIterator[object], total: int, stall: float
) -> list[object]:
    """Take one event, stall ``stall`` seconds, then take the rest until event ``total``."""
    out: list[object] = []
    async for item in hub_sub:
        out.append(item)
        if len(out) == 1:
            await asyncio.sleep(stall)
        if isinstance(item, EventMessage) and num(item) == total:
            break
    return out


async def test_wait_policy_reports_what_the_daemon_may_have_dropped(fake: FakeDaemon) -> None:
    """The daemon drops what a stalled, full connection does not take: the consumer is told."""
    big = {"blob": "x" * 4000}
    async with Docker(fake.host) as docker:
        async with docker.events.hub(reconnect=FAST, stall_limit=0.05) as hub:
            fake.plans.append(Plan(drop_when_blocked=True))
            async with hub.subscribe(maxsize=1, policy="wait", on_gap="yield") as sub:
                publisher = asyncio.ensure_future(
                    fake.publish(*(make_event(n, attributes=big) for n in range(1, 201))))
                drainer = asyncio.ensure_future(stall_then_drain(fake, sub, 201, 1.0))
                await asyncio.wait_for(publisher, 60)
                await asyncio.sleep(1.5)  # the stall is over: the consumer keeps up again
                await fake.publish(make_event(201))
                got = await asyncio.wait_for(drainer, 30)
    assert fake.dropped > 0  # the fault really happened
    gaps = [item for item in got if isinstance(item, EventGap)]
    assert len(gaps) >= 1  # told, not silent
    assert gaps[0].until_nano is None and gaps[0].since_nano >= make_event(1)["timeNano"]
    numbers = [num(e) for e in got if isinstance(e, EventMessage)]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))
    assert len(numbers) == 201 - fake.dropped  # what was not dropped arrived, once
    # the notice comes before the first missing event
    missing = sorted(set(range(1, 202)) - set(numbers))
    first_gap = got.index(gaps[0])
    before_gap = [num(e) for e in got[:first_gap] if isinstance(e, EventMessage)]
    assert all(n < missing[0] for n in before_gap)


async def test_gap_raises_in_a_raise_mode_subscriber(fake: FakeDaemon) -> None:
    await fake.publish(make_event(1))
    fake.plans.append(Plan(cut_after=len(encode(make_event(1)))))
    async with Docker(fake.host) as docker:
        async with docker.events.hub(since=1, reconnect=FAST) as hub:
            async with hub.subscribe() as sub:
                assert [num(e) for e in await drain(sub, 1)] == [1]
                fake.forget()
                await fake.publish(make_event(7))
                with pytest.raises(EventsLost):
                    await sub.__anext__()
                assert num(await sub.__anext__()) == 7


async def test_slow_consumer_memory_stays_bounded(fake: FakeDaemon) -> None:
    big = {"label." + str(i): "v" * 40 for i in range(20)}  # ~1.3 KB per event
    fake.buffer_size = 5000
    await fake.publish(*(make_event(n, attributes=big) for n in range(1, 5001)))
    async with Docker(fake.host) as docker:
        async with docker.events.hub(since=1, reconnect=FAST, stall_limit=60) as hub:
            tracemalloc.start()
            try:
                async with hub.subscribe(maxsize=50, policy="wait") as sub:
                    got = 0

                    async def consume() -> None:
                        nonlocal got
                        async for _ in sub:
                            got += 1
                            if got % 500 == 0:
                                await asyncio.sleep(0.02)
                            if got == 5000:
                                break

                    await asyncio.wait_for(consume(), 60)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert got == 5000
    # 5000 events are ~6.5 MB on the wire; a bounded reader holds only its buffers
    assert peak < 4 * 1024 * 1024, peak


async def test_bad_subscribe_arguments_are_refused(fake: FakeDaemon) -> None:
    async with Docker(fake.host) as docker, docker.events.hub() as hub:
        with pytest.raises(InvalidArgument, match="policy"):
            hub.subscribe(policy="block")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match="maxsize"):
            hub.subscribe(maxsize=0)


@pytest.mark.engine
async def test_real_daemon_stall_with_wait_policy_loses_nothing(
    docker: Docker, engine: EngineHandle
) -> None:
    """A real dockerd: the consumer stalls while events happen; it still gets each one once."""
    tag = secrets.token_hex(4)
    repo = f"aiodockersock-test/hub-{tag}"
    reported = engine.image_name(repo)  # Podman's events name it docker.io/…
    async with docker.events.hub(filters={"type": "image", "event": "tag"},
                                 stall_limit=0.05) as hub:
        async with hub.subscribe(maxsize=1, policy="wait") as sub:
            for i in range(12):
                await asyncio.to_thread(engine.cli, "tag", TEST_IMAGE, f"{repo}:{i}")
            seen: list[str] = []

            async def consume() -> None:
                async for ev in sub:
                    name = ev.attribute("name") or ""
                    if name.startswith(reported):
                        seen.append(name)
                    await asyncio.sleep(0.12)  # a consumer slower than the daemon's 100 ms
                    if len(seen) == 12:
                        break

            await asyncio.wait_for(consume(), 30)
            stats = hub.stream.stats if hub.stream is not None else None
    for i in range(12):
        engine.cli("rmi", f"{repo}:{i}", check=False)
    assert seen == [f"{reported}:{i}" for i in range(12)]  # every event once, in order
    assert hub.stalls >= 1  # the consumer held the reader up, but too little to fill the socket
    assert stats is not None and stats.gaps == 0


def open_sockets() -> int:
    """How many sockets this process has open."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


async def listeners(docker: Docker, engine: EngineHandle) -> int:
    """The event listeners the daemon counts (``info().n_events_listener``); Podman's info
    always says 0, so there: the sockets this process holds open (the client's pooled request
    connection is open before and after, so a change is an event stream)."""
    if not engine.podman:
        return (await docker.info()).n_events_listener or 0
    await docker.ping()  # on the pooled connection, as info() would be
    return open_sockets()


@pytest.mark.engine
async def test_a_herd_joining_an_unconnected_hub_shares_one_connection(
    docker: Docker, engine: EngineHandle
) -> None:
    """100 subscribers join at once a hub that has no daemon connection yet (every browser tab
    reconnecting after a deploy): the daemon sees one listener, and each subscriber gets every
    event exactly once."""
    tag = secrets.token_hex(4)
    repo = f"aiodockersock-test/herd-{tag}"
    reported = engine.image_name(repo)  # Podman's events name it docker.io/…
    before = await listeners(docker, engine)
    async with docker.events.hub(filters={"type": "image", "event": "tag"}) as hub:
        subs = [hub.subscribe(maxsize=64) for _ in range(100)]
        await asyncio.wait_for(asyncio.gather(*(sub.__aenter__() for sub in subs)), 30)
        try:
            assert hub.subscribers == 100
            # dockerd answers (flushes the headers) before it registers the listener: wait
            # for its count to catch up, then check it went up by one only
            for _ in range(200):
                if await listeners(docker, engine) > before:
                    break
                await asyncio.sleep(0.05)
            assert await listeners(docker, engine) == before + 1
            for i in range(5):
                await asyncio.to_thread(engine.cli, "tag", TEST_IMAGE, f"{repo}:{i}")

            async def names(sub: AsyncIterator[object]) -> list[str]:
                got: list[str] = []
                async for ev in sub:
                    assert isinstance(ev, EventMessage)
                    name = ev.attribute("name") or ""
                    if name.startswith(reported):
                        got.append(name)
                    if len(got) == 5:
                        break
                return got

            results = await asyncio.wait_for(asyncio.gather(*(names(s) for s in subs)), 30)
        finally:
            await asyncio.gather(*(sub.aclose() for sub in subs))
            for i in range(5):
                engine.cli("rmi", f"{repo}:{i}", check=False)
    expected = [f"{reported}:{i}" for i in range(5)]
    assert all(got == expected for got in results)
    assert await listeners(docker, engine) == before  # nothing leaked
