"""The tasks API against a real single-node swarm (the ``swarm`` fixture) on Docker 20.10 and
28.5: list (filtered by service), inspect, logs."""

from __future__ import annotations

import secrets as random

import pytest

from aiodockersock import Docker, NotFound

from .conftest import TEST_LABEL, EngineHandle, SwarmHandle, assert_no_swarm

#: Tests that need a real engine (they take the ``swarm`` fixture).
engine_test = pytest.mark.engine


@engine_test
async def test_list_inspect_and_logs_of_a_services_tasks(
    swarm: SwarmHandle, swarm_docker: Docker
) -> None:
    service = await swarm_docker.services.create(
        image=swarm.image_id,
        name=f"ads-tasks-{random.token_hex(4)}",
        command=["sh", "-c", "echo out; echo err >&2; trap 'exit 0' TERM; sleep 600 & wait"],
        replicas=2,
        labels={TEST_LABEL: "1"},
    )
    assert service.id is not None and service.name is not None
    try:
        await swarm_docker.services.wait_converged(service.id, timeout=60)
        tasks = await swarm_docker.tasks.list(filters={"service": service.name})
        assert sorted(t.slot for t in tasks) == [1, 2]
        assert {t.service_id for t in tasks} == {service.id}
        assert {t.state for t in tasks} == {"running"}
        assert {t.node_id for t in tasks} == {swarm.node_id}
        running = await swarm_docker.tasks.list(
            filters={"service": service.id, "desired-state": "running"}
        )
        assert len(running) == 2
        task = await swarm_docker.tasks.inspect(tasks[0].id or "")
        assert task.status is not None and task.status.container_status is not None
        container_id = task.status.container_status.container_id
        assert container_id is not None
        # The task's container is a container of this node, labelled with its service.
        container = await swarm_docker.containers.inspect(container_id)
        assert container.config is not None and container.config.labels is not None
        assert container.config.labels["com.docker.swarm.service.id"] == service.id
        async with swarm_docker.tasks.logs(task.id or "", follow=True) as logs:
            frames = {}
            async for frame in logs:
                frames[frame.stream] = frame.data
                if len(frames) == 2:
                    break
        assert frames == {"stdout": b"out\n", "stderr": b"err\n"}
        whole = await swarm_docker.tasks.logs(task.id or "", stderr=False)
        assert whole.stdout == b"out\n" and whole.stderr == b""
    finally:
        await swarm_docker.services.remove(service.id)
    with pytest.raises(NotFound):
        await swarm_docker.tasks.inspect("ads-no-such-task")


@engine_test
@pytest.mark.podman
@pytest.mark.not_supported_on("podman")
async def test_every_call_without_a_swarm_says_why(engine: EngineHandle, docker: Docker) -> None:
    """Podman has no swarm mode (NotSupported saying so); a Docker engine in no swarm says to
    init or join one (NotInSwarm)."""
    async def logs() -> object:
        return await docker.tasks.logs("ads-no-task")

    await assert_no_swarm(engine, "tasks", {
        "list": docker.tasks.list,
        "inspect": lambda: docker.tasks.inspect("ads-no-task"),
        "logs": logs,
    })
