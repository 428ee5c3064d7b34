"""A Fleet over real engines: the suite's engine plus two private dockerds of the same version,
one restarted mid-stream and one stopped for good; and Podman next to the run's first Docker
engine (both the shared ones)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aiodockersock import (
    Docker,
    DockerConnectionError,
    Fleet,
    FleetEvents,
    HostChange,
    InvalidArgument,
    NotFound,
)
from aiodockersock.models import HostDown, HostEvent, HostGap, HostUp

from .conftest import (
    IN_CI,
    PODMAN,
    TEST_IMAGE,
    TEST_LABEL,
    EngineHandle,
    EnginePool,
    swarm_labels,
)
from .engines import Engine, build_test_image


@dataclass
class Trio:
    """Three engines of one version: ``a`` (the suite's), ``b`` and ``c`` (private)."""

    a: EngineHandle
    b: Engine
    c: Engine

    def urls(self) -> dict[str, str]:
        return {"a": self.a.host, "b": self.b.host, "c": self.c.host}


@pytest.fixture(scope="module")
def trio(engine: EngineHandle) -> Iterator[Trio]:
    if engine.label in (PODMAN, "external"):
        pytest.skip("the fleet tests start private dockerds of the engine's version")
    started: list[tuple[Engine, Path]] = []
    try:
        for _ in range(2):
            workdir = Path(tempfile.mkdtemp(prefix="ads-fleet-", dir="/tmp"))
            started.append((Engine.start_engine(engine.label, workdir), workdir))
            build_test_image(started[-1][0])
    except Exception as exc:  # the engine package's errors say what failed
        for managed, workdir in started:
            managed.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        if IN_CI:
            pytest.fail(f"CI=true and private dockerds {engine.label} did not start: {exc}")
        pytest.skip(f"private dockerds {engine.label} did not start: {exc}")
    try:
        yield Trio(engine, started[0][0], started[1][0])
    finally:
        for managed, workdir in started:
            managed.stop()
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
async def fleet(trio: Trio) -> AsyncIterator[Fleet]:
    for managed in (trio.b, trio.c):
        if not managed.is_running():
            managed.start()
    async with Fleet(trio.urls(), timeout=20) as made:
        yield made


async def _volume(client: Docker, tag: str) -> str:
    name = f"ads-fleet-{tag}-{secrets.token_hex(3)}"
    await client.volumes.create(name=name, labels={TEST_LABEL: "1"})
    return name


async def _next(events: FleetEvents, want: Any, timeout: float = 30) -> list[Any]:
    """Items up to and including the first one ``want(item)`` accepts."""
    seen: list[Any] = []

    async def until() -> None:
        async for item in events:
            seen.append(item)
            if want(item):
                return
        raise AssertionError(f"the fleet stream ended; saw {seen}")

    await asyncio.wait_for(until(), timeout)
    return seen


async def _all_up(events: FleetEvents, hosts: set[str]) -> None:
    up: set[str] = set()
    await _next(events, lambda i: isinstance(i, HostUp) and (up.add(i.host) or up >= hosts))


async def _dropped(events: FleetEvents, host: str, at_least: int) -> None:
    """Wait (10 s at most) until ``host`` has ``at_least`` events dropped."""
    for _ in range(200):
        if events.dropped.get(host, 0) >= at_least:
            return
        await asyncio.sleep(0.05)


def _volume_event(host: str, name: str) -> Any:
    return lambda item: (
        type(item) is HostEvent and item.host == host and item.event.actor_id == name
    )


# ---------------------------------------------------------------------------------------------


def test_a_fleet_needs_engines_it_can_name() -> None:
    with pytest.raises(InvalidArgument, match="at least one engine"):
        Fleet({})
    with pytest.raises(InvalidArgument, match="URL, a context name or a Docker client"):
        Fleet({"a": 42})  # type: ignore[dict-item]


async def test_gather_returns_results_and_errors_side_by_side(
    fleet: Fleet, tmp_path: Path
) -> None:
    async with Fleet({**{h: fleet[h] for h in fleet}, "gone": f"unix://{tmp_path}/no.sock"}) as f:
        listed = await f.gather(lambda d: d.containers.list(all=True), timeout=10)
    assert list(listed) == ["a", "b", "c", "gone"]
    assert set(listed.values_ok) == {"a", "b", "c"}
    assert isinstance(listed["gone"].error, DockerConnectionError)
    assert "no.sock" in str(listed["gone"].error)
    with pytest.raises(DockerConnectionError):
        listed["gone"].unwrap()
    # per-engine errors of the call itself, too: the same name is missing on two of them
    name = await _volume(fleet["a"], "inspect")
    try:
        inspected = await fleet.gather(lambda d: d.volumes.inspect(name))
        assert inspected["a"].ok and inspected["a"].unwrap().name == name
        assert isinstance(inspected["b"].error, NotFound)
        assert isinstance(inspected["c"].error, NotFound)
    finally:
        await fleet["a"].volumes.remove(name)


async def test_an_engine_that_never_answers_costs_only_its_timeout(
    fleet: Fleet, tmp_path: Path
) -> None:
    accepted: list[asyncio.StreamWriter] = []
    hung = await asyncio.start_unix_server(
        lambda r, w: accepted.append(w), path=str(tmp_path / "hung.sock")
    )
    try:
        async with Fleet({"a": fleet["a"], "hung": f"unix://{tmp_path}/hung.sock"}) as f:
            loop = asyncio.get_running_loop()
            started = loop.time()
            pinged = await f.gather(lambda d: d.ping(), timeout=1.0)
            assert loop.time() - started < 10
        assert pinged["a"].ok
        assert "did not answer within 1 s" in str(pinged["hung"].error)
    finally:
        for writer in accepted:
            writer.close()
        hung.close()
        await hung.wait_closed()


async def test_merged_events_are_tagged_and_survive_a_restart_and_a_loss(
    fleet: Fleet, trio: Trio
) -> None:
    made: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    async with fleet.events(filters={"type": ["volume"]}) as events:
        await _all_up(events, {"a", "b", "c"})
        # one event from each engine, each tagged with its own engine
        for host in ("a", "b", "c"):
            made[host].append(await _volume(fleet[host], host))
        wanted = {(h, made[h][0]) for h in ("a", "b", "c")}
        await _next(events, lambda i: type(i) is HostEvent and (
            wanted.discard((i.host, i.event.actor_id)) or not wanted))
        # b restarts: down, up, and its later events arrive, after a gap notice (a restarted
        # daemon replays nothing, so continuity cannot be proven)
        await asyncio.to_thread(trio.b.restart)
        seen = await _next(events, lambda i: isinstance(i, HostUp) and i.host == "b", 60)
        assert any(isinstance(i, HostDown) and i.host == "b" for i in seen)
        made["b"].append(await _volume(fleet["b"], "b"))
        seen = await _next(events, _volume_event("b", made["b"][1]))
        assert any(isinstance(i, HostGap) and i.host == "b" for i in seen)
        # c stops for good: a notice, and the others go on
        await asyncio.to_thread(trio.c.stop)
        await _next(events, lambda i: isinstance(i, HostDown) and i.host == "c", 60)
        made["a"].append(await _volume(fleet["a"], "a"))
        seen = await _next(events, _volume_event("a", made["a"][1]))
        assert not any(type(i) is HostEvent and i.host == "c" for i in seen)
    for host in ("a", "b"):
        for name in made[host]:
            with contextlib.suppress(NotFound):
                await fleet[host].volumes.remove(name)


async def test_each_engine_keeps_its_order(fleet: Fleet) -> None:
    names: dict[str, list[str]] = {"a": [], "b": []}
    async with fleet.events(filters={"type": ["volume"], "event": ["create"]}) as events:
        await _all_up(events, {"a", "b"})

        async def make(host: str) -> None:
            for i in range(15):
                names[host].append(await _volume(fleet[host], f"{host}{i}"))

        await asyncio.gather(make("a"), make("b"))
        got: dict[str, list[str]] = {"a": [], "b": []}
        await _next(events, lambda i: (
            type(i) is HostEvent and i.host in got
            and got[i.host].append(i.event.actor_id or "") is None
            and sum(map(len, got.values())) == 30
        ))
    assert got == names
    for host, created in names.items():
        for name in created:
            await fleet[host].volumes.remove(name)


@pytest.mark.parametrize(
    ("maxsize", "made"),
    [
        (3, 8),
        # past 64 buffered events a reader lets the consumer go first before it decodes
        # more; a consumer that is not iterating must still have up to maxsize read for it
        (80, 100),
    ],
    ids=["maxsize-3", "maxsize-past-the-hand-off"],
)
async def test_a_consumer_awaiting_something_else_keeps_the_newest_under_drop_oldest(
    fleet: Fleet, maxsize: int, made: int
) -> None:
    created: list[str] = []
    async with fleet.events(filters={"type": ["volume"], "event": ["create"]},
                            maxsize=maxsize, policy="drop_oldest") as events:
        await _next(events, lambda i: isinstance(i, HostUp) and i.host == "a")
        for i in range(made):  # the consumer awaits its own calls, not the stream
            created.append(await _volume(fleet["a"], f"d{i}"))
        # the daemon's events trail its answers: wait until all are in
        await _dropped(events, "a", made - maxsize)
        assert events.dropped.get("a", 0) == made - maxsize, "dropped more, or read less"
        seen = await _next(events, _volume_event("a", created[-1]))
        kept = [i.event.actor_id for i in seen if type(i) is HostEvent]
        assert kept == created[made - maxsize:]  # the newest, in order
    for name in created:
        await fleet["a"].volumes.remove(name)


async def test_the_watch_relists_only_the_engine_that_was_away(
    fleet: Fleet, trio: Trio
) -> None:
    ids: dict[str, str] = {}
    for host in ("a", "b"):
        made = await fleet[host].containers.create(
            {"Image": TEST_IMAGE, "Cmd": ["sleep", "300"], "Labels": {TEST_LABEL: "fleet"},
             "HostConfig": {"NetworkMode": "none"}},
        )
        assert made.id is not None
        ids[host] = made.id
    try:
        async with fleet.watch(label=f"{TEST_LABEL}=fleet") as watch:
            seen: list[Any] = []

            async def until(want: Any, timeout: float = 60) -> None:
                async def run() -> None:
                    async for item in watch:
                        seen.append(item)
                        if want(item):
                            return
                await asyncio.wait_for(run(), timeout)

            added: set[str] = set()
            await until(lambda i: isinstance(i, HostChange) and i.kind == "added"
                        and i.id == ids.get(i.host) and (added.add(i.host) or len(added) == 2))
            assert {h for h, _ in watch.containers()} >= {"a", "b"}
            seen.clear()
            await asyncio.to_thread(trio.b.restart)
            await until(lambda i: isinstance(i, HostUp) and i.host == "b")
            # a change on b after its outage is seen; nothing was re-added on either engine
            await fleet["b"].containers.start(ids["b"])
            await until(lambda i: isinstance(i, HostChange) and i.host == "b"
                        and i.kind == "updated" and i.id == ids["b"])
            assert not [i for i in seen if isinstance(i, HostChange) and i.kind == "added"]
            assert watch.get("b", ids["b"]) is not None
    finally:
        for host, cid in ids.items():
            with contextlib.suppress(NotFound, DockerConnectionError):
                await fleet[host].containers.remove(cid, force=True)


async def test_a_window_of_the_past_ends_when_every_engine_is_done(fleet: Fleet) -> None:
    names = {host: await _volume(fleet[host], host) for host in ("a", "b")}
    info = await fleet.gather(lambda d: d.info())
    now = max(i.unwrap().system_time or "" for i in info.values())
    assert now
    async with Fleet({"a": fleet["a"], "b": fleet["b"]}) as pair:
        events = pair.events(since="10m", until=now, filters={"type": ["volume"]})
        async with events:
            seen = [i async for i in events if type(i) is HostEvent]
    got = {(i.host, i.event.actor_id) for i in seen}
    assert {("a", names["a"]), ("b", names["b"])} <= got
    for host, name in names.items():
        await fleet[host].volumes.remove(name)


@pytest.mark.podman_only
async def test_podman_next_to_docker_in_one_fleet(
    engine: EngineHandle, engine_pool: EnginePool
) -> None:
    """Podman as one member of a fleet, next to the run's first Docker engine (both shared
    with the other tests): each engine's events come tagged with its name and named as Docker
    names them (a removal is ``destroy`` on both), live and in a window of the past."""
    dockers = swarm_labels()  # the Docker engines of this run
    if not dockers:
        pytest.skip("a fleet of Podman and Docker needs a Docker engine in the run")
    hosts = {"docker": engine_pool.get(dockers[0]).host, "podman": engine.host}
    tag = secrets.token_hex(4)
    body = {"Image": TEST_IMAGE, "Labels": {TEST_LABEL: "1", "fleet": tag},
            "HostConfig": {"NetworkMode": "none"}}
    filters = {"type": ["container"], "event": ["create", "destroy"], "label": [f"fleet={tag}"]}
    made: dict[str, str] = {}
    async with Fleet(hosts, timeout=20) as fleet:
        async with fleet.events(filters=filters) as events:
            await _all_up(events, set(hosts))
            for host in hosts:
                made[host] = (await fleet[host].containers.create(body)).id or ""
                await fleet[host].containers.remove(made[host])
            live: list[tuple[str, str | None, str | None]] = []
            await _next(events, lambda i: type(i) is HostEvent and (
                live.append((i.host, i.event.actor_id, i.event.action)) or len(live) == 4))
        info = await fleet.gather(lambda d: d.info())
        now = max(i.unwrap().system_time or "" for i in info.values())
        past = fleet.events(since="1m", until=now, filters=filters)
        async with past:
            window = [(i.host, i.event.actor_id, i.event.action)
                      async for i in past if type(i) is HostEvent]
    for seen in (live, window):
        for host, cid in made.items():
            assert [(h, a) for h, c, a in seen if h == host] == [
                (host, "create"), (host, "destroy")], seen
            assert {c for h, c, _ in seen if h == host} == {cid}
