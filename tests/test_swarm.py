"""The swarm API against a real single-node swarm (the ``swarm`` fixture) on Docker 20.10 and
28.5."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aiodockersock import (
    APIError,
    Conflict,
    Docker,
    InvalidArgument,
    NotInSwarm,
    NotSupported,
    NotSwarmManager,
    ServerError,
    SwarmLocked,
    SwarmUnavailable,
)
from aiodockersock._exceptions import swarm_error_class

from .conftest import EngineHandle, SwarmHandle
from .engines.swarm import free_udp_port, node_address

# An address no daemon listens on: a call that raises InvalidArgument there sent nothing.
NOWHERE = "unix:///nonexistent/aiodockersock.sock"

#: Tests that need a real engine (they take the ``swarm`` fixture).
engine_test = pytest.mark.engine


@engine_test
async def test_swarm_fixture_is_an_active_manager_of_its_own(
    swarm: SwarmHandle, swarm_docker: Docker
) -> None:
    info = await swarm_docker.info()
    assert info.swarm is not None
    assert info.swarm.local_node_state == "active"
    assert info.swarm.control_available is True
    assert info.swarm.node_id == swarm.node_id
    assert swarm.info is not None and info.swarm.node_addr == swarm.info.advertise_addr
    assert swarm.server_version.startswith(swarm.label)
    image = await swarm_docker.images.inspect(swarm.image_id)
    assert image.id == swarm.image_id


# ---------------------------------------------------------------------------------------------
# The session swarm: inspect and update
# ---------------------------------------------------------------------------------------------


@engine_test
async def test_inspect_shows_the_swarm_and_its_join_tokens(
    swarm: SwarmHandle, swarm_docker: Docker
) -> None:
    inspected = await swarm_docker.swarm.inspect()
    info = await swarm_docker.info()
    assert info.swarm is not None and info.swarm.cluster is not None
    assert inspected.id == info.swarm.cluster.id
    assert inspected.version is not None and (inspected.version.index or 0) > 0
    assert inspected.spec is not None and inspected.spec.name == "default"
    assert inspected.spec.raft is not None and inspected.spec.raft.election_tick == 10
    assert inspected.tls_info is not None
    assert (inspected.tls_info.trust_root or "").startswith("-----BEGIN CERTIFICATE-----")
    assert inspected.join_tokens is not None
    # the tokens are the ones the docker CLI prints for "docker swarm join-token -q"
    worker = swarm.cli("swarm", "join-token", "-q", "worker").stdout.strip()
    manager = swarm.cli("swarm", "join-token", "-q", "manager").stdout.strip()
    assert inspected.join_tokens.worker == worker and worker.startswith("SWMTKN-1-")
    assert inspected.join_tokens.manager == manager and manager != worker


@engine_test
async def test_update_changes_what_it_is_given_and_keeps_the_rest(
    swarm: SwarmHandle, swarm_docker: Docker
) -> None:
    before = await swarm_docker.swarm.inspect()
    assert before.spec is not None and before.version is not None
    await swarm_docker.swarm.update(labels={"aiodockersock.test": "labels"})
    try:
        after = await swarm_docker.swarm.inspect()
        assert after.spec is not None and after.version is not None
        assert after.spec.labels == {"aiodockersock.test": "labels"}
        # the rest of the spec is the one the swarm had (the daemon replaces the whole spec)
        assert after.spec.raft == before.spec.raft
        assert after.spec.dispatcher == before.spec.dispatcher
        assert after.spec.ca_config == before.spec.ca_config
        assert (after.version.index or 0) > (before.version.index or 0)
        labels = swarm.cli("swarm", "inspect", "--format", "{{json .Spec.Labels}}",
                           check=False)
        if labels.returncode == 0:  # the CLI has no "swarm inspect"; docker info has it
            assert "aiodockersock.test" in labels.stdout
        # a version read before the change is refused: someone else changed the swarm since
        with pytest.raises(Conflict) as caught:
            await swarm_docker.swarm.update(labels={}, version=before.version.index)
        assert "out of sequence" in caught.value.message and caught.value.status == 500
    finally:
        await swarm_docker.swarm.update(labels={})
    assert (await swarm_docker.swarm.inspect()).spec.labels in ({}, None)  # type: ignore[union-attr]


async def test_swarm_arguments_are_checked_before_sending() -> None:
    async with Docker(NOWHERE) as docker:
        with pytest.raises(InvalidArgument, match="remote_addrs"):
            await docker.swarm.join([], "SWMTKN-1-x")
        with pytest.raises(InvalidArgument, match="join_token"):
            await docker.swarm.join("127.0.0.1:2377", "")
        with pytest.raises(InvalidArgument, match="data_path_port must be in 1024-49151"):
            await docker.swarm.init(data_path_port=80)
        with pytest.raises(InvalidArgument, match="'Rafts'"):
            await docker.swarm.init(spec={"Rafts": {}})
        with pytest.raises(InvalidArgument, match=r"spec\['Raft'\] has unknown.*'election_tick'"):
            await docker.swarm.init(spec={"Raft": {"election_tick": 3}})
        with pytest.raises(InvalidArgument, match="unlock key"):
            await docker.swarm.unlock("")


# ---------------------------------------------------------------------------------------------
# An engine in no swarm: the 503 becomes NotInSwarm, which says what to do
# ---------------------------------------------------------------------------------------------

#: dockerd's 503 messages (daemon/cluster/errors.go and the no-manager message), by class.
SWARM_503 = {
    'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to '
    "connect this node to swarm and try again.": NotInSwarm,
    "This node is not part of a swarm": NotInSwarm,
    "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster "
    "state. Please run this command on a manager node or promote the current node to a "
    "manager.": NotSwarmManager,
    "This node is not a swarm manager. Manager is being prepared or has trouble connecting to "
    "the cluster.": NotSwarmManager,
    'Swarm is encrypted and needs to be unlocked before it can be used. Please use "docker '
    'swarm unlock" to unlock it.': SwarmLocked,
    'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and '
    "join another one.": SwarmUnavailable,
    "Swarm certificates have expired. To replace them, leave the swarm and join again.":
    SwarmUnavailable,
}


def test_each_swarm_503_gets_its_class_and_what_to_do() -> None:
    for message, cls in SWARM_503.items():
        exc = swarm_error_class(message)(503, message, method="GET", path="/v1.51/nodes")
        assert type(exc) is cls, message
        assert exc.message == message and exc.status == 503
        assert str(exc).startswith(f"503 GET /v1.51/nodes: {message} — "), str(exc)
    # a 503 that is not about the swarm stays a plain ServerError
    assert swarm_error_class("service unavailable: shutting down") is None


@engine_test
@pytest.mark.podman
@pytest.mark.not_supported_on("podman")
async def test_a_swarm_call_on_an_engine_in_no_swarm_says_to_init_or_join(
    engine: EngineHandle, docker: Docker,
) -> None:
    if engine.podman:  # Podman has no swarm mode at all: the calls are not supported
        for call in (docker.swarm.inspect, docker.nodes.list, docker.swarm.unlock_key,
                     docker.swarm.init):
            with pytest.raises(NotSupported) as unsupported:
                await call()
            assert str(unsupported.value).startswith(
                f"Podman {engine.server_version} has no swarm mode, so it has no ")
            assert "there is no docker.swarm.init() for it" in str(unsupported.value)
        return
    for call in (docker.swarm.inspect, docker.nodes.list, docker.swarm.unlock_key):
        with pytest.raises(NotInSwarm) as caught:
            await call()
        exc = caught.value
        assert isinstance(exc, NotSwarmManager) and isinstance(exc, ServerError)
        assert exc.status == 503
        assert "not a swarm manager" in exc.message  # the daemon's words, unchanged
        assert "docker.swarm.init()" in str(exc) and "docker.swarm.join(" in str(exc)
    with pytest.raises(NotInSwarm, match="not part of a swarm"):
        await docker.swarm.leave()


# ---------------------------------------------------------------------------------------------
# Engines of their own: init, join (two nodes), leave, lock and unlock
# ---------------------------------------------------------------------------------------------


@engine_test
async def test_leave_then_two_private_daemons_make_a_manager_and_a_worker(
    swarm: SwarmHandle, private_engines: Callable[[int], list[EngineHandle]]
) -> None:
    first, second = private_engines(2)
    async with Docker(first.host) as manager, Docker(second.host) as worker:
        # a first swarm, left again (its last manager: with force). Each node advertises a
        # loopback address of its own: dockerd's network agent binds port 7946 there
        addr, listen = node_address()
        old_id = await manager.swarm.init(advertise_addr=addr, listen_addr=listen)
        await manager.swarm.leave(force=True)
        with pytest.raises(NotInSwarm):
            await manager.swarm.inspect()
        assert (await manager.info()).swarm.local_node_state == "inactive"  # type: ignore[union-attr]

        addr, listen = node_address()
        manager_id = await manager.swarm.init(
            advertise_addr=addr, listen_addr=listen, data_path_port=free_udp_port()
        )
        assert manager_id != old_id
        assert manager_id == (await manager.info()).swarm.node_id  # type: ignore[union-attr]
        with pytest.raises(SwarmUnavailable, match="leave the current swarm first") as caught:
            await manager.swarm.init(advertise_addr=addr, listen_addr=listen)
        assert "already part of a swarm" in caught.value.message
        assert not isinstance(caught.value, NotSwarmManager)

        tokens = (await manager.swarm.inspect()).join_tokens
        assert tokens is not None and tokens.worker
        worker_addr, worker_listen = node_address()
        await worker.swarm.join(
            listen, tokens.worker, advertise_addr=worker_addr, listen_addr=worker_listen
        )
        worker_info = (await worker.info()).swarm
        assert worker_info is not None and worker_info.local_node_state == "active"
        assert worker_info.control_available is False
        worker_id = worker_info.node_id
        assert worker_id and worker_id != manager_id

        nodes = await manager.nodes.list()
        assert sorted((n.id, n.role) for n in nodes) == sorted(
            [(manager_id, "manager"), (worker_id, "worker")]
        )
        workers = await manager.nodes.list(filters={"role": "worker"})
        assert [n.id for n in workers] == [worker_id]
        listed = first.cli("node", "ls", "-q").stdout.split()
        assert sorted(listed) == sorted([manager_id, worker_id])

        # a worker is in the swarm but no manager: NotSwarmManager, and not NotInSwarm
        with pytest.raises(NotSwarmManager, match="promote") as refused:
            await worker.nodes.list()
        assert not isinstance(refused.value, NotInSwarm)

        # the worker leaves; the manager then removes its node
        await worker.swarm.leave()
        with pytest.raises(NotInSwarm):
            await worker.swarm.inspect()
        await manager.nodes.remove(worker_id, force=True)
        assert [n.id for n in await manager.nodes.list()] == [manager_id]

        # without force the last manager refuses to leave, and the swarm stays
        with pytest.raises(ServerError, match="force"):
            await manager.swarm.leave()
        assert (await manager.swarm.inspect()).id


@engine_test
async def test_an_autolocked_manager_is_locked_after_a_restart_until_unlocked(
    swarm: SwarmHandle, private_engines: Callable[[int], list[EngineHandle]]
) -> None:
    (engine,) = private_engines(1)
    async with Docker(engine.host) as docker:
        addr, listen = node_address()
        await docker.swarm.init(
            advertise_addr=addr, listen_addr=listen, data_path_port=free_udp_port()
        )
        assert await docker.swarm.unlock_key() is None  # autolock is off
        await docker.swarm.update(autolock=True)
        key = await docker.swarm.unlock_key()
        assert key is not None and key.startswith("SWMKEY-1-")
        assert engine.cli("swarm", "unlock-key", "-q").stdout.strip() == key
        spec = (await docker.swarm.inspect()).spec
        assert spec is not None and spec.encryption_config is not None
        assert spec.encryption_config.auto_lock_managers is True

        await docker.swarm.update(rotate_manager_unlock_key=True)
        rotated = await docker.swarm.unlock_key()
        assert rotated is not None and rotated != key

        # rotating the worker token keeps the manager token (and the rest of the spec)
        before = await docker.swarm.inspect()
        await docker.swarm.update(rotate_worker_token=True)
        after = await docker.swarm.inspect()
        assert before.join_tokens is not None and after.join_tokens is not None
        assert after.join_tokens.worker != before.join_tokens.worker
        assert after.join_tokens.manager == before.join_tokens.manager
        assert after.spec == before.spec
        token = engine.cli("swarm", "join-token", "-q", "worker").stdout.strip()
        assert token == after.join_tokens.worker

    engine.restart()
    async with Docker(engine.host) as docker:
        info = await docker.info()
        assert info.swarm is not None and info.swarm.local_node_state == "locked"
        with pytest.raises(SwarmLocked, match=r"docker\.swarm\.unlock\(key\)") as caught:
            await docker.swarm.inspect()
        assert caught.value.status == 503
        with pytest.raises(APIError) as wrong:
            await docker.swarm.unlock(key)  # the key before the rotation
        assert wrong.value.status == 401 and "invalid key" in wrong.value.message
        await docker.swarm.unlock(rotated)
        assert (await docker.swarm.inspect()).spec is not None
        with pytest.raises(Conflict, match="not locked"):
            await docker.swarm.unlock(rotated)
        await docker.swarm.update(autolock=False)
        assert await docker.swarm.unlock_key() is None

