"""The nodes API against a real single-node swarm (the ``swarm`` fixture) on Docker 20.10 and
28.5, the node events an update sends, and the node structs against recorded answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import msgspec
import pytest

from aiodockersock import BadRequest, Conflict, Docker, InvalidArgument, NotFound
from aiodockersock.models import AttributeChange, EventMessage, EventTypes, Node

from .conftest import EngineHandle, SwarmHandle, assert_no_swarm
from .test_models import unmatched_keys

#: Tests that need a real engine (they take the ``swarm`` fixture).
engine_test = pytest.mark.engine

# An address no daemon listens on: a call that raises InvalidArgument there sent nothing.
NOWHERE = "unix:///nonexistent/aiodockersock.sock"


@pytest.fixture
async def node(swarm: SwarmHandle, swarm_docker: Docker) -> AsyncIterator[Node]:
    """The swarm's only node; its spec is put back as it was after the test."""
    before = await swarm_docker.nodes.inspect(swarm.node_id)
    yield before
    assert before.spec is not None
    await swarm_docker.nodes.update(swarm.node_id, spec=before.spec)


@engine_test
async def test_list_shows_the_manager_as_the_cli_does(
    swarm: SwarmHandle, swarm_docker: Docker
) -> None:
    nodes = await swarm_docker.nodes.list()
    assert [n.id for n in nodes] == [swarm.node_id]
    (me,) = nodes
    assert me.role == "manager" and me.leader and me.state == "ready"
    assert me.availability == "active"
    assert me.manager_status is not None and me.manager_status.reachability == "reachable"
    assert me.description is not None and me.description.engine is not None
    assert me.description.engine.engine_version == swarm.server_version
    assert me.description.platform is not None and me.description.platform.os == "linux"
    assert me.description.resources is not None
    assert (me.description.resources.nano_cpus or 0) > 0
    assert me.status is not None and swarm.info is not None
    assert me.status.addr == swarm.info.advertise_addr
    # the same node, hostname and status the docker CLI lists
    line = swarm.cli("node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}}").stdout
    assert line.split() == [swarm.node_id, me.hostname, "Ready"]
    assert await swarm_docker.nodes.list(filters={"role": "worker"}) == []
    assert [n.id for n in await swarm_docker.nodes.list(filters={"role": "manager"})] == [me.id]


@engine_test
async def test_inspect_by_id_prefix_or_hostname_and_not_found(
    swarm: SwarmHandle, swarm_docker: Docker
) -> None:
    by_id = await swarm_docker.nodes.inspect(swarm.node_id)
    assert by_id.id == swarm.node_id and by_id.hostname
    assert (await swarm_docker.nodes.inspect(swarm.node_id[:6])).id == swarm.node_id
    assert (await swarm_docker.nodes.inspect(by_id.hostname)).id == swarm.node_id
    with pytest.raises(NotFound):
        await swarm_docker.nodes.inspect("no-such-node-anywhere")


@engine_test
async def test_update_merges_the_change_on_the_current_spec(
    swarm: SwarmHandle, swarm_docker: Docker, node: Node
) -> None:
    assert node.version is not None
    await swarm_docker.nodes.update(swarm.node_id, labels={"zone": "a", "disk": "ssd"})
    labelled = await swarm_docker.nodes.inspect(swarm.node_id)
    assert labelled.spec is not None and labelled.spec.labels == {"zone": "a", "disk": "ssd"}
    assert labelled.availability == "active" and labelled.role == "manager"
    assert (labelled.version.index or 0) > (node.version.index or 0)  # type: ignore[union-attr]

    await swarm_docker.nodes.update(swarm.node_id, availability="pause")
    paused = await swarm_docker.nodes.inspect(swarm.node_id)
    assert paused.availability == "pause"
    assert paused.spec is not None and paused.spec.labels == {"zone": "a", "disk": "ssd"}
    shown = swarm.cli("node", "inspect", "--format",
                      "{{.Spec.Availability}} {{index .Spec.Labels \"zone\"}}", swarm.node_id)
    assert shown.stdout.split() == ["pause", "a"]

    # a version read before a change is refused: someone else changed the node since
    with pytest.raises(Conflict, match="out of sequence"):
        await swarm_docker.nodes.update(swarm.node_id, availability="active",
                                        version=node.version.index)
    await swarm_docker.nodes.update(swarm.node_id, availability="active", labels={})
    back = await swarm_docker.nodes.inspect(swarm.node_id)
    assert back.availability == "active" and not (back.spec and back.spec.labels)


@engine_test
async def test_concurrent_updates_all_land(
    swarm: SwarmHandle, swarm_docker: Docker, node: Node
) -> None:
    # four writers read the same version; without the retry three would be refused
    keys = [f"k{i}" for i in range(4)]

    async def add(key: str) -> None:
        await swarm_docker.nodes.update(swarm.node_id, name=key)

    await asyncio.gather(*(add(key) for key in keys))
    assert (await swarm_docker.nodes.inspect(swarm.node_id)).spec.name in keys  # type: ignore[union-attr]


@engine_test
async def test_the_daemon_refuses_what_would_break_the_swarm(
    swarm: SwarmHandle, swarm_docker: Docker
) -> None:
    with pytest.raises(BadRequest, match="last manager"):
        await swarm_docker.nodes.update(swarm.node_id, role="worker")
    with pytest.raises(BadRequest, match="must be demoted"):
        await swarm_docker.nodes.remove(swarm.node_id, force=True)
    assert (await swarm_docker.nodes.inspect(swarm.node_id)).role == "manager"


async def test_node_arguments_are_checked_before_sending() -> None:
    async with Docker(NOWHERE) as docker:
        with pytest.raises(InvalidArgument, match="availability must be one of"):
            await docker.nodes.update("n", availability="drained")
        with pytest.raises(InvalidArgument, match="role must be one of"):
            await docker.nodes.update("n", role="boss")
        with pytest.raises(InvalidArgument, match="labels must map strings to strings"):
            await docker.nodes.update("n", labels={"n": 1})  # type: ignore[dict-item]
        with pytest.raises(InvalidArgument, match="'availability'"):
            await docker.nodes.update("n", spec={"availability": "drain"}, version=3)
        with pytest.raises(InvalidArgument):
            await docker.nodes.inspect("")


# ---------------------------------------------------------------------------------------------
# Swarm-scope events: what an update changed
# ---------------------------------------------------------------------------------------------


@engine_test
async def test_a_node_update_sends_a_swarm_event_with_what_changed(
    swarm: SwarmHandle, swarm_docker: Docker, node: Node
) -> None:
    started = time.time_ns()

    async def first_update() -> EventMessage:
        async for event in events:
            # swarm events carry the object's own update time; earlier ones (the node's
            # creation, other tests' updates) may be replayed around the start
            if event.action == "update" and (event.time_nano or 0) >= started:
                return event
        raise AssertionError("the event stream ended")

    async with swarm_docker.events(
        since=started / 1e9, filters={"type": ["node"], "node": [swarm.node_id]}
    ) as events:
        await swarm_docker.nodes.update(swarm.node_id, availability="drain")
        event = await asyncio.wait_for(first_update(), 10)
    assert event.type == EventTypes.NODE and event.action == "update"
    assert event.scope == "swarm" and event.actor_id == swarm.node_id
    assert event.name == node.hostname
    assert event.changes() == {"availability": AttributeChange(old="active", new="drain")}
    assert event.changes()["availability"].new == "drain"


# Recorded from Docker 28.5 (docker service scale / update, node update, secret, config and
# overlay network commands on a single-node swarm).
SWARM_EVENTS = b"""\
{"Type":"node","Action":"update","Actor":{"ID":"rv64cta9mqe01osmri8ylpue9","Attributes":{"availability.new":"pause","availability.old":"active","name":"vm"}},"scope":"swarm","time":1796319926,"timeNano":1796319926542043445}
{"Type":"service","Action":"update","Actor":{"ID":"6beabp5wj2l8jkqkii3id8ax1","Attributes":{"name":"s1","replicas.new":"2","replicas.old":"1"}},"scope":"swarm","time":1796319915,"timeNano":1796319915676472160}
{"Type":"service","Action":"update","Actor":{"ID":"6beabp5wj2l8jkqkii3id8ax1","Attributes":{"image.new":"busybox2:latest","image.old":"sha256:a6f4","name":"s1"}},"scope":"swarm","time":1796319915,"timeNano":1796319915710169011}
{"Type":"service","Action":"update","Actor":{"ID":"6beabp5wj2l8jkqkii3id8ax1","Attributes":{"name":"s1","updatestate.new":"updating"}},"scope":"swarm","time":1796319915,"timeNano":1796319915711690973}
{"Type":"secret","Action":"create","Actor":{"ID":"3bgkggv5igbpopw9oy84z7xnd","Attributes":{"name":"sec1"}},"scope":"swarm","time":1796319915,"timeNano":1796319915743042155}
{"Type":"config","Action":"remove","Actor":{"ID":"rohlwxg2ujf0ovvaoc2rueprn","Attributes":{"name":"cfg1"}},"scope":"swarm","time":1796319915,"timeNano":1796319915789454281}
{"Type":"network","Action":"create","Actor":{"ID":"yt812mr3l67g7f83emgigr59c","Attributes":{"name":"ov1"}},"scope":"swarm","time":1796319915,"timeNano":1796319915812918068}
{"Type":"container","Action":"create","Actor":{"ID":"abc","Attributes":{"image":"x","name":"c","com.example.new":"1"}},"scope":"local","time":1796319915,"timeNano":1796319915812918069}
"""


def test_swarm_scope_events_decode_with_their_changes() -> None:
    events = [msgspec.json.decode(line, type=EventMessage)
              for line in SWARM_EVENTS.splitlines()]
    for line in SWARM_EVENTS.splitlines():
        assert unmatched_keys(msgspec.json.decode(line), EventMessage) == []
    node, scaled, image, state, secret, config, network, local = events
    assert [e.type for e in events[:-1]] == [
        EventTypes.NODE, EventTypes.SERVICE, EventTypes.SERVICE, EventTypes.SERVICE,
        EventTypes.SECRET, EventTypes.CONFIG, EventTypes.NETWORK,
    ]
    assert all(e.scope == "swarm" for e in events[:-1])
    assert node.changes() == {"availability": ("active", "pause")}
    assert scaled.changes() == {"replicas": AttributeChange(old="1", new="2")}
    assert image.changes()["image"] == AttributeChange("sha256:a6f4", "busybox2:latest")
    assert state.changes() == {"updatestate": AttributeChange(old=None, new="updating")}
    assert secret.changes() == {} and secret.name == "sec1" and secret.action == "create"
    assert config.action == "remove" and network.name == "ov1"
    # a local event's labels may end in .new without being a change
    assert local.changes() == {}


@engine_test
@pytest.mark.podman
@pytest.mark.not_supported_on("podman")
async def test_every_call_without_a_swarm_says_why(engine: EngineHandle, docker: Docker) -> None:
    """Podman has no swarm mode (NotSupported saying so); a Docker engine in no swarm says to
    init or join one (NotInSwarm)."""
    await assert_no_swarm(engine, "nodes", {
        "list": docker.nodes.list,
        "inspect": lambda: docker.nodes.inspect("ads-no-node"),
        "update": lambda: docker.nodes.update("ads-no-node", availability="drain"),
        "remove": lambda: docker.nodes.remove("ads-no-node", force=True),
    })
